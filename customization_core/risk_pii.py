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
# Every repetition is bounded (a local part of at most 64 characters, labels of at most 63,
# RFC 5321 and RFC 1035), so a long run of letters and dots costs linear time, not quadratic.
_EMAIL: Final = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]{1,63}"
    r"(?:\.[A-Za-z0-9\-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![A-Za-z0-9\-])"
)
# What precedes an address that is a URL's password: "scheme://user:" (or "scheme://:").
_URL_USER: Final = re.compile(r"://[^\s/?#@]{0,256}:$")
# A run of digits and separators with more digits than this is a list or a table, not one
# number: a card has at most 19 (ISO/IEC 7812), a phone number at most 15 (ITU-T E.164).
# Without this bound a 2 KB record of numbers took 23 ms in the phone matcher.
MAX_NUMBER_DIGITS: Final = 19
PHONE_DIGITS: Final = range(7, 16)
# A run of up to two numbers' digits is split into its groups to find a phone number beside
# another number; a longer run is a table, which the phone matcher never reads.
MAX_RUN_DIGITS: Final = 2 * MAX_NUMBER_DIGITS
_GROUP: Final = re.compile(r"[^ ]+")
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
# The key id prefixes and the 50-character reach of AWSKeyDetector's own patterns (detect-secrets
# 1.5.0, plugins/aws.py). The URL part starts at "://", never at a scheme: a scheme-first
# pattern is tried at every letter of a long word and took 10 s on 100 KB of letters.
_SECRET_HINT: Final = re.compile(
    r"(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}|(?i:aws).{0,50}[0-9a-zA-Z/+]{40}"
    r"|PRIVATE KEY|://[^\s:/@]{0,256}:[^\s@/]+@"
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
_URL_PASSWORD: Final = re.compile(
    r"([A-Za-z][A-Za-z0-9+.\-]{0,31}://[^\s:/@]{0,256}:)([^\s@/]+)(@[^\s/?#]+)"
)
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
    return _URL_USER.search(text, max(0, start - 300), start) is not None


def _numbers(text: str) -> Iterator[Hit]:
    taken: list[tuple[int, int]] = []
    for m in _IBAN.finditer(text):
        if iban.is_valid(m.group()):
            taken.append(m.span())
            yield Hit("iban", mask_iban(m.group()))
    for m in _DIGITS.finditer(text):
        if _inside(m.span(), taken):
            continue
        digits = sum(c.isdigit() for c in m.group())
        if digits > MAX_RUN_DIGITS:
            continue  # a list or a table of numbers
        if digits in CARD_DIGITS and luhn.is_valid(re.sub(r"[^0-9]", "", m.group())):
            taken.append(m.span())
            yield Hit("card", mask_card(m.group().strip()))
            continue
        for start, end in _phone_windows(m.group(), digits):
            # The matcher reads only the window and what may lead it ("+1 ("), not the text.
            window = text[max(0, m.start() + start - PHONE_LEAD_CHARS) : m.start() + end]
            for match in phonenumbers.PhoneNumberMatcher(window, DEFAULT_REGION):
                yield Hit("phone", mask_phone(match.raw_string, match.number.country_code or 0))


def _phone_windows(run: str, digits: int) -> Iterator[tuple[int, int]]:
    """Where in ``run`` a phone number may be: the run itself, or, when it holds more digits
    than a phone number ("Order 12345678 201-555-0100"), each longest stretch of its
    space-separated groups that holds at most 15 digits."""
    if digits in PHONE_DIGITS:
        yield 0, len(run)
        return
    groups = [
        (g.start(), g.end(), sum(c.isdigit() for c in g.group())) for g in _GROUP.finditer(run)
    ]
    for i, (start, end, count) in enumerate(groups):
        for _, later_end, later in groups[i + 1 :]:
            if count + later > PHONE_DIGITS.stop - 1:
                break
            end, count = later_end, count + later
        if count in PHONE_DIGITS:
            yield start, end


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


def _starred(value: str, keep_first: int, keep_last: int, *, counts: str = "digits") -> str:
    """``value`` with its digits (or letters and digits) starred but the first and last few."""
    counted = str.isdigit if counts == "digits" else str.isalnum
    total = sum(counted(c) for c in value)
    out = []
    seen = 0
    for c in value:
        if counted(c):
            seen += 1
            out.append(c if seen <= keep_first or seen > total - keep_last else "*")
        else:
            out.append(c)
    return "".join(out)


def mask_card(number: str) -> str:
    """``4111 1111 1111 1111`` -> ``**** **** **** 1111`` (the last four, as on a receipt)."""
    return _starred(number, 0, 4)


def mask_phone(raw: str, country_code: int) -> str:
    """``+1 201-555-0100`` -> ``+1 ***-***-0100``: the country code and last four kept."""
    keep = len(str(country_code)) if raw.lstrip().startswith("+") else 0
    return _starred(raw, keep, 4)


def mask_iban(value: str) -> str:
    """``DE89 3704 0044 0532 0130 00`` -> ``DE89 **** **** **** **** 00``."""
    return _starred(value, 4, 2, counts="alphanumerics")
