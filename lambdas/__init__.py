"""Lambda handlers of the customization workflow, one package per handler (lambdas/<name>/).

Each is thin: it parses its event and environment, calls one function of the
domain core, and returns. The workflow construct that runs them mirrors these
names (stacks/pipeline_specs.py and stacks/deployment_specs.py describe each
lambdas/<name>/; stacks/functions.py builds its function; stacks/workflow.py composes them).
"""
