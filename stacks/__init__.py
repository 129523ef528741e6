"""The CDK app's stacks and constructs: one module per logical unit.

Importing this package loads nothing heavy: scripts read ``stacks.nag_packs``
without starting the CDK's Node.js runtime.
"""
