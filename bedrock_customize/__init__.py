"""``bedrock-customize``: the command-line tool over the customization core."""
