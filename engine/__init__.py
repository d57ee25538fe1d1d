"""The governance engine: deal register, procedures on SpiffWorkflow, audit chain.

Never imports Flask; adapters reach it through ``citydeal.bootstrap``.
"""
