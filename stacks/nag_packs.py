"""The cdk-nag packs this app runs, by rule-name prefix (no CDK import: scripts read it)."""

# Rule-name prefix -> the plugin (pack) name cdk-nag reports it under.
PACKS: dict[str, str] = {
    "AwsSolutions-": "AwsSolutions",
    "NIST.800.53.R5-": "NIST.800.53.R5",
    "HIPAA.Security-": "HIPAA.Security",
    "Serverless-": "Serverless",
}
