"""Personal data and secrets in a record's text, each found value masked at once.

Every detector sits behind a cheap test (a substring, or one regular expression) so the
costly ones run only on candidates: phonenumbers' matcher, stdnum's Luhn and IBAN checks,
detect-secrets' plugins. The raw value never leaves this module; only ``Hit.masked`` does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final, Literal

import phonenumbers
from stdnum import iban, luhn

What = Literal["email", "phone", "card", "iban", "aws-key", "private-key", "url-password"]
PII: Final[frozenset[str]] = frozenset({"email", "phone", "card", "iban"})

# A run of digits and separators long enough for a phone, card or IBAN (at least 7
# characters from digit to digit): "Record 12345." does not wake the costly checks.
# [0-9], not \\d: the ASCII class is twice as fast to scan and the checks read ASCII digits.
_DIGITS: Final = re.compile(r"[0-9][0-9 ().\-]{5,}[0-9]")
# Characters before a digit run that belong to a phone number: "+1 (", "(".
PHONE_LEAD_CHARS: Final = 4
# Not mid-word. After a URL's "scheme://user:" it is a password, not an address (_in_url).
_EMAIL: Final = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
)
# A run of digits and separators with more digits than this is a list or a table, not one
# number: a card has at most 19 (ISO/IEC 7812), a phone number at most 15 (ITU-T E.164).
# Without this bound a 2 KB record of numbers took 23 ms in the phone matcher.
MAX_NUMBER_DIGITS: Final = 19
PHONE_DIGITS: Final = range(7, 16)
_IBAN: Final = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
# Payment card numbers are 13 to 19 digits (ISO/IEC 7812).
CARD_DIGITS: Final = range(13, 20)
# Where phonenumbers reads a number with no "+country": the region it assumes.
DEFAULT_REGION: Final = "US"
# What a line must hold for the plugins to find anything we report: an access key id
# (AKIA long-term, ASIA temporary), "aws" near a 40-character value (AWSKeyDetector's
# secret-key pattern), a PEM header, a URL with a user and password. One pass of one
# regular expression over the text (a few microseconds for 2 KB) keeps detect-secrets,
# which costs far more a line, to the lines that can hold a secret.
_SECRET_HINT: Final = re.compile(
    r"(?:AKIA|ASIA)[0-9A-Z]{16}|(?i:aws).{0,40}[0-9a-zA-Z/+]{40}|PRIVATE KEY"
    r"|[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]+:[^\s@/]+@"
)
_PLUGINS: Final[dict[str, Any]] = {
    "plugins_used": [
        {"name": "AWSKeyDetector"},
        {"name": "PrivateKeyDetector"},
        {"name": "BasicAuthDetector"},
    ],
    "filters_used": [],
}
_SECRET_WHAT: Final[dict[str, What]] = {
    "AWS Access Key": "aws-key",
    "Private Key": "private-key",
    "Basic Auth Credentials": "url-password",
}
# scheme://user:password@host, the host without its path, query or fragment.
_URL_PASSWORD: Final = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]+:)([^\s@/]+)(@[^\s/?#]+)")
# An AWS secret access key is 40 characters: none of it is shown.
SECRET_KEY_CHARS: Final = 40


@dataclass(frozen=True, slots=True)
class Hit:
    what: What
    masked: str  # the value with everything identifying replaced by "*"

    @property
    def kind(self) -> Literal["pii", "secrets"]:
        return "pii" if self.what in PII else "secrets"


def find_sensitive(text: str) -> list[Hit]:
    """Every e-mail, phone, card, IBAN, AWS key, private key and URL password in ``text``."""
    hits: list[Hit] = []
    if "@" in text:
        hits.extend(
            Hit("email", mask_email(m.group()))
            for m in _EMAIL.finditer(text)
            if not _in_url(text, m.start())
        )
    if _DIGITS.search(text) is not None:
        hits.extend(_numbers(text))
    if _SECRET_HINT.search(text) is not None:
        hits.extend(_secrets(text))
    return hits


def _in_url(text: str, start: int) -> bool:
    """The address at ``start`` is a URL's password ("scheme://user:pass@host"), a secret."""
    word = text.rfind(" ", 0, start) + 1  # where the whitespace-free run holding it begins
    return "://" in text[word:start]


def _numbers(text: str) -> Iterator[Hit]:
    taken: list[tuple[int, int]] = []
    for m in _IBAN.finditer(text):
        if iban.is_valid(m.group()):
            taken.append(m.span())
            yield Hit("iban", mask_iban(m.group()))
    for m in _DIGITS.finditer(text):
        if _inside(m.span(), taken):
            continue
        digits = re.sub(r"[^0-9]", "", m.group())
        if len(digits) > MAX_NUMBER_DIGITS:
            continue
        if len(digits) in CARD_DIGITS and luhn.is_valid(digits):
            taken.append(m.span())
            yield Hit("card", mask_card(m.group().strip()))
            continue
        if len(digits) not in PHONE_DIGITS:
            continue
        # The matcher reads only the run and what may lead it ("+1 ("), not the whole text.
        window = text[max(0, m.start() - PHONE_LEAD_CHARS) : m.end()]
        for match in phonenumbers.PhoneNumberMatcher(window, DEFAULT_REGION):
            yield Hit("phone", mask_phone(match.raw_string, match.number.country_code or 0))


def _inside(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(start < span[1] and span[0] < end for start, end in taken)


def _secrets(text: str) -> Iterator[Hit]:
    # Imported on the first candidate: detect-secrets takes some 200 ms to load.
    from detect_secrets.core.scan import scan_line
    from detect_secrets.settings import transient_settings

    with transient_settings(_PLUGINS):
        for line in text.splitlines():
            if _SECRET_HINT.search(line) is None:
                continue
            for secret in scan_line(line):
                what = _SECRET_WHAT.get(secret.type)
                if what is not None:
                    yield Hit(what, _mask_secret(what, secret.secret_value or "", line))


def _mask_secret(what: What, value: str, line: str) -> str:
    if what == "aws-key":
        # An access key id shows its ends, as the console does; a secret key shows nothing.
        return "*" * len(value) if len(value) >= SECRET_KEY_CHARS else mask_middle(value)
    if what == "private-key":
        return f"-----{value}----- ****"  # the PEM header names the key type, not the key
    # The URL whose password was found, not merely the line's first.
    found = next((m for m in _URL_PASSWORD.finditer(line) if m.group(2) == value), None)
    found = found or _URL_PASSWORD.search(line)
    if found is None:
        return "****"
    return f"{found.group(1)}****{found.group(3)}/..."


def mask_middle(value: str, keep: int = 4) -> str:
    """``AKIAIOSFODNN7EXAMPLE`` -> ``AKIA************MPLE``: the ends kept, the middle starred."""
    if len(value) <= 2 * keep:
        return "*" * len(value)
    return value[:keep] + "*" * (len(value) - 2 * keep) + value[-keep:]


def mask_email(address: str) -> str:
    """``john.doe@example.com`` -> ``j***@e***.com``."""
    local, _, domain = address.partition("@")
    host, dot, top = domain.rpartition(".")
    return f"{local[:1]}***@{host[:1]}***{dot}{top}"


def _star_digits(value: str, keep_first: int, keep_last: int) -> str:
    """``value`` with its digits starred but the first and last few, separators kept."""
    total = sum(c.isdigit() for c in value)
    out = []
    seen = 0
    for c in value:
        if c.isdigit():
            seen += 1
            out.append(c if seen <= keep_first or seen > total - keep_last else "*")
        else:
            out.append(c)
    return "".join(out)


def mask_card(number: str) -> str:
    """``4111 1111 1111 1111`` -> ``**** **** **** 1111`` (the last four, as on a receipt)."""
    return _star_digits(number, 0, 4)


def mask_phone(raw: str, country_code: int) -> str:
    """``+1 201-555-0100`` -> ``+1 ***-***-0100``: the country code and last four kept."""
    keep = len(str(country_code)) if raw.lstrip().startswith("+") else 0
    return _star_digits(raw, keep, 4)


def mask_iban(value: str) -> str:
    """``DE89 3704 0044 0532 0130 00`` -> ``DE89 **** **** **** **** 00``."""
    total = sum(c.isalnum() for c in value)
    out = []
    seen = 0
    for c in value:
        if c.isalnum():
            seen += 1
            out.append(c if seen <= 4 or seen > total - 2 else "*")
        else:
            out.append(c)
    return "".join(out)
