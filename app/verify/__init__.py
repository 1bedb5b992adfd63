"""Check the trial-registry numbers a clinic cites against ClinicalTrials.gov.

Takes NCT ids and what the site says about itself (``SiteContext``) and returns one
``Verification`` per id; it knows nothing about rules, pages or scoring.
"""

from app.verify.ctgov import RegistryClient, normalise_nct_id
from app.verify.models import (
    Location,
    Lookup,
    SiteContext,
    TrialRecord,
    Verification,
    parse_study,
)
from app.verify.verdict import judge, verify_trials

__all__ = [
    "Location",
    "Lookup",
    "RegistryClient",
    "SiteContext",
    "TrialRecord",
    "Verification",
    "judge",
    "normalise_nct_id",
    "parse_study",
    "verify_trials",
]
