"""The stages in order for one site: fetch or read, extract, analyse, verify trials, save.

Shared by the CLI, the API, the patient's page and the batch worker, so the flow is written once.
"""
