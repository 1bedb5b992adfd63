"""A stand-in for the ClinicalTrials.gov API v2 on 127.0.0.1, with scripted misbehaviour.

Study texts are invented for these tests; the ids are in the NCT09xxxxxx range, which the
registry has not issued. ``SITE`` is the clinic the scenarios are judged against.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from app.verify import SiteContext

SITE = SiteContext(
    names=["Cascade Regenerative Clinic", "cascaderegen.com"],
    places=["Portland, Oregon", "USA"],
    conditions=["rheumatoid arthritis", "knee osteoarthritis", "multiple sclerosis", "back pain"],
)

ACADEMIC_RA = "NCT09000001"
UNKNOWN = "NCT09000002"
MALFORMED = "NCT0900003"  # seven digits: the registry answers 400
ALIAS = "NCT09000004"  # an old id that redirects (301) to ACADEMIC_RA
THROTTLED_ONCE = "NCT09000006"  # 429 with "Retry-After: 2", then the study
THROTTLED_DATE = "NCT09000011"  # 429 with an HTTP-date Retry-After, then the study
RETRY_DATE = "Sun, 01 Mar 2026 12:00:03 GMT"
RETRY_DATE_EPOCH = 1_772_366_403.0  # the instant RETRY_DATE names
ALWAYS_THROTTLED = "NCT09000012"
WITHDRAWN = "NCT09000007"
TERMINATED = "NCT09000016"
SUSPENDED = "NCT09000017"
PATIENT_FUNDED = "NCT09000008"
UNRELATED = "NCT09000009"
SERVER_ERROR = "NCT09000010"
CLINIC_OWN = "NCT09000013"
ACADEMIC_ELSEWHERE = "NCT09000014"
SLOW = "NCT09000015"  # answers (404) only after a second


def _study(
    nct_id: str,
    title: str,
    status: str,
    sponsor: tuple[str, str],
    conditions: list[str],
    interventions: list[tuple[str, str]],
    locations: list[tuple[str, str, str]],
    summary: str,
    *,
    why_stopped: str | None = None,
    fda_drug: bool | None = None,
    aliases: tuple[str, ...] = (),
) -> dict[str, Any]:
    ident: dict[str, Any] = {"nctId": nct_id, "briefTitle": title}
    if aliases:
        ident["nctIdAliases"] = list(aliases)
    status_module: dict[str, Any] = {"overallStatus": status}
    if why_stopped:
        status_module["whyStopped"] = why_stopped
    return {
        "protocolSection": {
            "identificationModule": ident,
            "statusModule": status_module,
            "sponsorCollaboratorsModule": {
                "leadSponsor": {"name": sponsor[0], "class": sponsor[1]}
            },
            "oversightModule": {"isFdaRegulatedDrug": fda_drug},
            "conditionsModule": {"conditions": conditions},
            "armsInterventionsModule": {
                "interventions": [{"type": kind, "name": name} for kind, name in interventions]
            },
            "contactsLocationsModule": {
                "locations": [
                    {"facility": facility, "city": city, "country": country}
                    for facility, city, country in locations
                ]
            },
            "descriptionModule": {"briefSummary": summary},
        },
        "hasResults": False,
    }


_NORTHVALE = ("Northvale University", "OTHER")
_CLINIC = ("Cascade Regenerative Clinic", "OTHER")
_PORTLAND_HOSPITAL = ("Northvale University Hospital", "Portland", "United States")
_PORTLAND_CLINIC = ("Cascade Regenerative Clinic", "Portland", "United States")

STUDIES: dict[str, dict[str, Any]] = {
    study["protocolSection"]["identificationModule"]["nctId"]: study
    for study in (
        _study(
            ACADEMIC_RA,
            "Donor Stromal Cell Infusions for Adults With Active Rheumatoid Arthritis",
            "RECRUITING",
            _NORTHVALE,
            ["Rheumatoid Arthritis"],
            [("BIOLOGICAL", "Allogeneic mesenchymal stromal cells"), ("OTHER", "Saline placebo")],
            [_PORTLAND_HOSPITAL],
            "A placebo-controlled early-phase trial asking whether intravenous donor stromal "
            "cells are safe for adults whose arthritis stays active despite standard drugs. "
            "The study product and all study visits are provided at no cost to participants.",
            fda_drug=True,
            aliases=(ALIAS,),
        ),
        _study(
            THROTTLED_ONCE,
            "Marrow Concentrate Versus Saline Injection in Knee Osteoarthritis",
            "COMPLETED",
            ("University of the Cascades", "OTHER"),
            ["Knee Osteoarthritis"],
            [("PROCEDURE", "Bone marrow aspirate concentrate injection")],
            [("Riverside Orthopaedic Research Unit", "Portland", "United States")],
            "A blinded comparison of concentrated bone marrow and saline injected into the knee.",
        ),
        _study(
            THROTTLED_DATE,
            "Cell Therapy Follow-up in Relapsing Multiple Sclerosis",
            "ENROLLING_BY_INVITATION",
            _NORTHVALE,
            ["Multiple Sclerosis"],
            [("OTHER", "Long-term follow-up visits")],
            [_PORTLAND_HOSPITAL],
            "Invited participants from an earlier trial return yearly for safety checks.",
        ),
        _study(
            WITHDRAWN,
            "Fat-Derived Cells for Multiple Sclerosis",
            "WITHDRAWN",
            _CLINIC,
            ["Multiple Sclerosis"],
            [("BIOLOGICAL", "Autologous adipose-derived cells")],
            [],
            "A planned study of fat-derived cells in people with multiple sclerosis.",
            why_stopped="The sponsor did not secure funding before enrolment began.",
        ),
        _study(
            TERMINATED,
            "Cord Blood Cells for Knee Osteoarthritis",
            "TERMINATED",
            _CLINIC,
            ["Knee Osteoarthritis"],
            [("BIOLOGICAL", "Cord blood cells")],
            [_PORTLAND_CLINIC],
            "A single-arm study of cord blood cells injected into the knee.",
            why_stopped="Enrolment was far slower than planned.",
        ),
        _study(
            SUSPENDED,
            "Cell Injections for Chronic Low Back Pain",
            "SUSPENDED",
            _CLINIC,
            ["Back Pain"],
            [("BIOLOGICAL", "Autologous cells")],
            [_PORTLAND_CLINIC],
            "A study of cell injections into painful spinal discs.",
            why_stopped="Paused while the review board examines an adverse event.",
        ),
        _study(
            PATIENT_FUNDED,
            "Outcomes Registry of Fat-Derived Cell Injections for Joint and Autoimmune Conditions",
            "RECRUITING",
            _CLINIC,
            ["Rheumatoid Arthritis", "Knee Osteoarthritis", "Multiple Sclerosis"],
            [("BIOLOGICAL", "Autologous adipose-derived cells")],
            [_PORTLAND_CLINIC],
            "This registry follows people who receive injections of their own fat-derived "
            "cells at the clinic. Participants pay for the cell harvest, processing and "
            "injections themselves; the fee is set by the clinic.",
        ),
        _study(
            UNRELATED,
            "Once-Weekly Oral Glucose-Lowering Tablet in Adults With Type 2 Diabetes",
            "RECRUITING",
            ("Hollisfield Pharma AG", "INDUSTRY"),
            ["Type 2 Diabetes Mellitus"],
            [("DRUG", "HF-2231 tablet"), ("DRUG", "Placebo tablet")],
            [("Hollisfield Clinical Research Unit", "Munich", "Germany")],
            "A randomised trial comparing a weekly tablet with placebo on blood sugar control.",
            fda_drug=True,
        ),
        _study(
            CLINIC_OWN,
            "Platelet-Rich Plasma Injections in Knee Osteoarthritis: a Single-Clinic Registry",
            "RECRUITING",
            _CLINIC,
            ["Knee Osteoarthritis"],
            [("PROCEDURE", "Platelet-rich plasma injection")],
            [_PORTLAND_CLINIC],
            "An open registry of patients treated with platelet-rich plasma at one clinic.",
        ),
        _study(
            ACADEMIC_ELSEWHERE,
            "Stromal Cells Added to Methotrexate in Early Rheumatoid Arthritis",
            "ACTIVE_NOT_RECRUITING",
            ("Eastmoor University", "OTHER"),
            ["Rheumatoid Arthritis"],
            [("BIOLOGICAL", "Mesenchymal stromal cells")],
            [("Eastmoor University Medical Center", "Boston", "United States")],
            "A randomised trial adding stromal cell infusions to methotrexate.",
        ),
    )
}
_REDIRECTS = {ALIAS: ACADEMIC_RA}
_WELL_FORMED = re.compile(r"NCT\d{8}")

Reply = tuple[int, dict[str, str], Any]


class FakeRegistry:
    """Threaded HTTP server answering like ClinicalTrials.gov; counts every request."""

    def __init__(self) -> None:
        self.requests: list[str] = []  # request targets (path and query), in arrival order
        self.page_size = 100  # the most studies one list page holds
        self._throttled: set[str] = set()  # ids that already got their one 429
        self._lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"registry": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False  # don't wait for the deliberately slow answer
        # A short poll keeps shutdown() quick: it waits for the serving loop's next poll.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def reply(self, target: str) -> Reply:
        """Status, headers and JSON body for one GET."""
        with self._lock:
            self.requests.append(target)
        url = urlsplit(target)
        if url.path == "/api/v2/studies":
            return self._list(parse_qs(url.query))
        match = re.fullmatch(r"/api/v2/studies/([^/]+)", url.path)
        if match is None:
            return 404, {}, {"message": "no such endpoint"}
        return self._one(match.group(1))

    def _one(self, nct_id: str) -> Reply:
        if not _WELL_FORMED.fullmatch(nct_id):
            return 400, {}, {"message": f"invalid NCT number {nct_id}"}
        if nct_id == SLOW:
            time.sleep(1.0)
        if nct_id == SERVER_ERROR:
            return 500, {}, {"message": "internal error"}
        if nct_id == ALWAYS_THROTTLED:
            return 429, {"Retry-After": "1"}, {"message": "too many requests"}
        once = {THROTTLED_ONCE: "2", THROTTLED_DATE: RETRY_DATE}
        with self._lock:
            first = nct_id in once and nct_id not in self._throttled
            self._throttled.add(nct_id)
        if first:
            return 429, {"Retry-After": once[nct_id]}, {"message": "too many requests"}
        if nct_id in _REDIRECTS:
            return 301, {"Location": f"/api/v2/studies/{_REDIRECTS[nct_id]}"}, None
        if nct_id not in STUDIES:
            return 404, {}, {"message": f"study {nct_id} not found"}
        return 200, {}, STUDIES[nct_id]

    def _list(self, query: dict[str, list[str]]) -> Reply:
        ids = [part for part in query.get("filter.ids", [""])[0].split(",") if part]
        if any(not _WELL_FORMED.fullmatch(nct_id) for nct_id in ids):
            return 400, {}, {"message": "filter.ids holds a malformed NCT number"}
        if SERVER_ERROR in ids:
            return 500, {}, {"message": "internal error"}
        found: dict[str, dict[str, Any]] = {}
        for nct_id in ids:
            canonical = _REDIRECTS.get(nct_id, nct_id)  # the list endpoint matches aliases
            if canonical in STUDIES:
                found[canonical] = STUDIES[canonical]
        size = min(int(query.get("pageSize", ["10"])[0]), self.page_size)
        offset = int(query.get("pageToken", ["0"])[0])
        body: dict[str, Any] = {"studies": list(found.values())[offset : offset + size]}
        if offset + size < len(found):
            body["nextPageToken"] = str(offset + size)
        return 200, {}, body


class _Handler(BaseHTTPRequestHandler):
    registry: FakeRegistry

    def do_GET(self) -> None:
        status, headers, body = self.registry.reply(self.path)
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""
