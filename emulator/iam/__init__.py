"""The emulator's IAM: every AWS call a handler makes is authorized as AWS would.

``policies`` reads the synthesized template's identity, resource and endpoint
policies; ``requests`` turns one AWS call into the IAM requests AWS evaluates for
it; ``simulator`` asks a real policy simulator (npm @cloud-copilot/iam-simulate);
``enforce`` denies, with AccessDenied and the action's name, what AWS would deny.
"""
