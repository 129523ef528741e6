"""The domain core shared by the pipeline's Lambda handlers and the CLI.

Pure logic: the model catalog, dataset formats, validation, token and cost
estimates. It imports no boto3 at module level and reads no environment;
callers pass in what it needs.
"""
