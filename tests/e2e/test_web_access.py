"""Who may open every web page and send every web form, as one matrix (both databases).

The routes are read from the web app itself, so a page added later fails here until
it is classified below. Each page and action says, as data, who may use it, derived
from the domain's rules (`domain.access`); everyone else — a teammate, another team's
employee or manager, an auditor, an integration — gets the very page a made-up
agreement id gets, and nothing is recorded. Forms are sent with the sender's own valid
CSRF token, the agreement's current version and plausible values for every field the
allowed person's form has, so a refusal is the access check and nothing else."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from api.graphql.ids import agreement_uuid
from domain.values import Role
from infra.signing import new_private_key
from tests.e2e.conftest import Api, serving
from tests.e2e.scim import integration, patch
from tests.e2e.web import browser, sign_in
from tests.e2e.world import World


@pytest.fixture(scope="module")
def api(module_database_url: str) -> Iterator[Api]:
    """The service with a signing key on both databases (a dossier needs a signed
    checkpoint; on PostgreSQL there is no key file to fall back on), shared by the
    module's tests (each makes its own people: tests.e2e.shared)."""
    with serving(module_database_url, signing_key=new_private_key()) as served:
        yield served


INACTIVE = patch({"op": "replace", "path": "active", "value": False})
MADE_UP = "00000000-0000-4000-8000-00000000beef"
MALFORMED = "not-an-id"

# Who signs in, as (person in the World, roles). The auditor and the integration are
# not in the people directory; everyone else is.
ACTORS: dict[str, tuple[str, tuple[Role, ...]]] = {
    "employee": ("emp", (Role.EMPLOYEE,)),
    "teammate": ("mate", (Role.EMPLOYEE,)),
    "stranger": ("stranger", (Role.EMPLOYEE,)),  # another team's employee
    "manager": ("mgr", (Role.MANAGER, Role.EMPLOYEE)),
    "other manager": ("mgr2", (Role.MANAGER, Role.EMPLOYEE)),
    "hr": ("hr", (Role.HR,)),
    "auditor": ("auditor", (Role.AUDITOR,)),
    "integration": ("integration", (Role.INTEGRATION,)),
}
EVERYONE = frozenset(ACTORS)
# Reading the agreement: its employee, their manager, and whoever reads everything.
READERS = frozenset({"employee", "manager", "hr", "auditor", "integration"})
SEES_ALL = frozenset({"hr", "auditor", "integration"})
# Acting on the agreement's employee side (revise, withdraw): the employee or HR.
EMPLOYEE_SIDE = frozenset({"employee", "hr"})
# On the manager's side: the employee's current manager or HR.
MANAGER_SIDE = frozenset({"manager", "hr"})
# Recording an artifact: either side.
CONTRIBUTORS = frozenset({"employee", "manager", "hr"})
# Proposing (for oneself): role EMPLOYEE, or HR.
PROPOSERS = frozenset({"employee", "teammate", "stranger", "manager", "other manager", "hr"})
# A career: one's own needs one in the directory; another's, the right to read the person.
IN_DIRECTORY = PROPOSERS
READ_THE_EMPLOYEE = READERS
# A manager's own pages: managers (their reports') and HR; a team's workload also
# whoever reads everything, but not another team's manager.
INBOX = frozenset({"manager", "other manager", "hr"})
TEAM = frozenset({"manager", "hr", "auditor", "integration"})
# HR's jobs on a person of the directory: legal holds and erasure.
HR = frozenset({"hr"})
# Insights (docs/insights.md): HR, auditors and every manager (their own teams' rows);
# not integrations.
INSIGHTS = frozenset({"manager", "other manager", "hr", "auditor"})
# A manager's own reports: whoever has the manager role (each sees their own).
REPORTS = frozenset({"manager", "other manager"})

# Routes without a signed-in person's access to judge: sign-in, static files.
PUBLIC = {
    ("GET", "/signin"),
    ("GET", "/login/{token}"),
    ("POST", "/login/{token}"),
    ("POST", "/logout"),
    ("GET", "/static/{name}"),
    ("GET", "/favicon.ico"),
    ("GET", "/oidc/login"),  # only with an identity provider
    ("GET", "/oidc/callback"),
    ("POST", "/signin/email"),  # the same answer for any address
    # The signed link is the credential (one-click unsubscribe needs no session).
    ("GET", "/notifications/unsubscribe/{token}"),
    ("POST", "/notifications/unsubscribe/{token}"),
}
# A person's own settings: every signed-in person, for themselves only.
OWN = {("POST", "/notifications/settings")}
OPTIONAL = {("GET", "/oidc/login"), ("GET", "/oidc/callback")}


@dataclass(frozen=True)
class Page:
    who: frozenset[str]
    state: str = "active"  # the agreement in the path: proposed, active, paused, changed
    query: str = ""


@dataclass(frozen=True)
class Action:
    who: frozenset[str]
    state: str
    values: dict[str, str]  # plausible values for the form's fields
    # The page the form is on: /agreements/{id}/<form>, or a path of its own.
    form: str = ""


PAGES: dict[str, Page] = {
    "/": Page(EVERYONE),
    "/agreements": Page(EVERYONE),  # what each may read (everyone's for SEES_ALL)
    "/agreements/new": Page(PROPOSERS),
    "/agreements/new/row": Page(PROPOSERS, query="index=1"),
    "/agreements/{agreement_id}": Page(READERS),
    "/agreements/{agreement_id}/revise": Page(EMPLOYEE_SIDE, "proposed"),
    "/agreements/{agreement_id}/sketch": Page(EMPLOYEE_SIDE),
    "/agreements/{agreement_id}/timeline": Page(READERS),
    "/agreements/{agreement_id}/changes": Page(READERS, query="version=1"),
    "/agreements/{agreement_id}/as-of": Page(READERS, query="version=1"),
    "/agreements/{agreement_id}/integrity": Page(SEES_ALL),
    "/agreements/{agreement_id}/export": Page(SEES_ALL),
    "/agreements/{agreement_id}/revert-to": Page(MANAGER_SIDE, "changed", "version=2"),
    # The earlier changes in effect, with their revert forms (`url` names the list);
    # the other lists' earlier pages are for every reader (test_web_earlier.py).
    "/agreements/{agreement_id}/earlier/{list}": Page(
        MANAGER_SIDE, "changed", "before=999999999.0"
    ),
    "/agreements/{agreement_id}/reallocate/check": Page(
        MANAGER_SIDE, query="toPersonId={mate}&hoursPerWeek=1"
    ),
    "/inbox": Page(INBOX),
    "/team": Page(TEAM, query="team={team}"),
    "/insights": Page(INSIGHTS),
    "/reports": Page(REPORTS),
    "/career": Page(IN_DIRECTORY),
    "/people/{person_id}/career": Page(READ_THE_EMPLOYEE),
    "/people": Page(SEES_ALL),
    "/people/{person_id}": Page(SEES_ALL),  # the directory's entry (HR's forms on it)
    "/deactivations": Page(SEES_ALL),  # the held wave (GraphQL's heldDeactivations)
    "/audit": Page(SEES_ALL),
    "/notifications": Page(EVERYONE),
    "/notifications/settings": Page(EVERYONE),
}

# Forms answered with a file rather than a redirect: the promotion dossier (a PDF).
DOWNLOADS: dict[str, frozenset[str]] = {
    "/agreements/{agreement_id}/dossier": CONTRIBUTORS,
    "/people/{person_id}/dossier": CONTRIBUTORS,  # all the employee's agreements
}

PROPOSAL = {
    "title": "Tester to product manager",
    "careerGoal.targetRole": "Product manager",
    "careerGoal.skills": "customer research",
    "careerGoal.targetDate": "",
    "adjustments[0].description": "Write one feature brief",
    "adjustments[0].hoursPerWeek": "2",
    "adjustments[0].startsOn": "",
    "adjustments[0].endsOn": "",
    "employeeId": "",  # HR's form: blank proposes for HR themselves
}
GUARDRAILS = {
    "guardrails.maxDevelopmentHoursPerWeek": "6",
    "guardrails.reviewEveryDays": "14",
    "guardrails.protectedResponsibilities": "Release sign-off",
    "guardrails.endsOn": "",
}
PERSON = "/people/{person_id}"  # the page HR's forms on a person are on
ACTIONS: dict[str, Action] = {
    "/agreements/new": Action(PROPOSERS, "none", PROPOSAL, "/agreements/new"),
    "/agreements/{agreement_id}/revise": Action(
        EMPLOYEE_SIDE, "proposed", PROPOSAL | {"title": "Tester to PM, revised"}, "revise"
    ),
    "/agreements/{agreement_id}/withdraw": Action(
        EMPLOYEE_SIDE, "proposed", {"reason": "Changed my mind"}
    ),
    # The sketch editor's first form (the blocks before); its others post to the same URL.
    "/agreements/{agreement_id}/sketch": Action(
        EMPLOYEE_SIDE,
        "active",
        {
            "before-0-name": "Regression testing",
            "before-0-share": "100",
            "before-0-energy": "DRAINING",
        },
        "sketch",
    ),
    "/agreements/{agreement_id}/artifacts": Action(
        CONTRIBUTORS, "active", {"title": "Feature brief", "url": "", "skills": "writing"}
    ),
    "/agreements/{agreement_id}/approve": Action(MANAGER_SIDE, "proposed", GUARDRAILS),
    "/agreements/{agreement_id}/request-changes": Action(
        MANAGER_SIDE, "proposed", {"reason": "More detail"}
    ),
    "/agreements/{agreement_id}/reject": Action(MANAGER_SIDE, "proposed", {"reason": "Not now"}),
    "/agreements/{agreement_id}/guardrails": Action(
        MANAGER_SIDE, "active", GUARDRAILS | {"guardrails.reviewEveryDays": "21"}
    ),
    "/agreements/{agreement_id}/adjust": Action(
        MANAGER_SIDE,
        "active",
        {
            "adjustment.description": "Pair on a brief",
            "adjustment.hoursPerWeek": "1",
            "adjustment.startsOn": "",
            "adjustment.endsOn": "",
        },
    ),
    "/agreements/{agreement_id}/reallocate": Action(
        MANAGER_SIDE,
        "active",
        {
            "task": "Regression runs",
            "toPersonId": "{mate}",
            "hoursPerWeek": "1",
            "effectiveOn": "",
            "reason": "Make room",
        },
    ),
    "/agreements/{agreement_id}/review": Action(
        MANAGER_SIDE, "active", {"heldOn": "", "notes": "Going well", "nextReviewOn": ""}
    ),
    "/agreements/{agreement_id}/pause": Action(MANAGER_SIDE, "active", {"reason": "Crunch"}),
    "/agreements/{agreement_id}/resume": Action(MANAGER_SIDE, "paused", {"reason": ""}),
    "/agreements/{agreement_id}/complete": Action(MANAGER_SIDE, "active", {"reason": ""}),
    "/agreements/{agreement_id}/revert": Action(MANAGER_SIDE, "changed", {"reason": "Undo"}),
    # What an ended agreement led to, and undoing it: the manager's side too.
    "/agreements/{agreement_id}/outcome": Action(
        MANAGER_SIDE,
        "completed",
        {"kind": "SKILLS_DEMONSTRATED", "achievedOn": "", "reason": ""},
    ),
    "/agreements/{agreement_id}/revert-outcome": Action(
        MANAGER_SIDE, "outcome", {"reason": "Recorded by mistake"}
    ),
    "/agreements/{agreement_id}/revert-to": Action(
        MANAGER_SIDE, "changed", {"reason": "Start over"}, "revert-to?version=2"
    ),
    # HR's decision on a held deactivation wave (a new wave held for each).
    "/deactivations/deactivate": Action(HR, "wave", {"reason": "Reorganised"}, "/deactivations"),
    "/deactivations/keep": Action(HR, "wave", {"reason": "Provider error"}, "/deactivations"),
    # On the employee's directory entry, in this order: held, released, then erased.
    "/people/{person_id}/hold": Action(HR, "person", {"reason": "Litigation"}, PERSON),
    "/people/{person_id}/lift": Action(HR, "person", {"reason": "Settled"}, PERSON),
    "/people/{person_id}/erase": Action(HR, "person", {"reason": "Asked to"}, PERSON),
}


def web_routes(api: Api) -> set[tuple[str, str]]:
    """(method, path) of every route of the web app mounted at "/"."""
    mount = next(r for r in api.client.app.routes if isinstance(r, Mount) and r.path == "")
    found = set()
    for route in mount.routes:
        assert isinstance(route, Route), route
        found.add(("POST" if "POST" in (route.methods or ()) else "GET", route.path))
    return found


class _Forms(HTMLParser):
    """The fields of the form posting to one action: name → value (a select's chosen
    option, else its first), and which of them are hidden."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.found = action, False, False
        self.fields: dict[str, str] = {}
        self.hidden: set[str] = set()
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and not self.found:
            self.inside = a.get("action") == self.action and a.get("method") == "post"
            self.found = self.inside
        elif tag == "option" and self.select is not None:
            if self.select not in self.fields or "selected" in a:
                self.fields[self.select] = a.get("value", "")
        elif not self.inside or "name" not in a:
            return
        elif tag == "input" and a.get("type") not in ("submit", "button"):
            self.fields[a["name"]] = a.get("value", "")
            if a.get("type") == "hidden":
                self.hidden.add(a["name"])
        elif tag == "select":
            self.select = a["name"]
        elif tag == "textarea":
            self.textarea = a["name"]
            self.fields[a["name"]] = ""

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.fields[self.textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def form_fields(html: str, action: str) -> tuple[dict[str, str], set[str]]:
    parser = _Forms(action)
    parser.feed(html)
    assert parser.found, f"no form posting to {action}"
    return parser.fields, parser.hidden


def _same_page(html: str) -> str:
    """A page without what each rendering makes anew, and without the navigation's
    counts (what awaits the viewer changes as the matrix records; notifications arrive
    between two requests)."""
    html = re.sub(r' <span class="count">.*?</span></span>', "", html)
    return re.sub(r'name="idempotency_key" value="[^"]*"', "", html)


def _messages(html: str) -> list[str]:
    """What a refused form says (its alerts and field errors)."""
    return re.findall(r'class="(?:error|field-error)"[^>]*>([^<]*)<', html)


@dataclass
class Matrix:
    api: Api
    world: World = field(init=False)
    clients: dict[str, TestClient] = field(init=False)
    tokens: dict[str, str] = field(init=False)
    not_found: dict[str, str] = field(init=False)  # each one's page for a made-up id

    def __post_init__(self) -> None:
        self.world = World(self.api)
        ids = self.world.ids | {
            "auditor": f"auditor-{self.world.s}",
            "integration": f"workday-{self.world.s}",
        }
        self.clients = {
            who: sign_in(self.api.client, self.api.secret, ids[person], *roles)
            for who, (person, roles) in ACTORS.items()
        }
        self.tokens = {}
        self.not_found = {}
        for who, client in self.clients.items():
            page = client.get("/").text
            found = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
            assert found, page
            self.tokens[who] = found.group(1)
            made_up = client.get(f"/agreements/{MADE_UP}")
            assert made_up.status_code == 404
            self.not_found[who] = _same_page(made_up.text)

    def fill(self, text: str) -> str:
        return text.format(mate=self.world.ids["mate"], team=self.world.team)

    def agreement(self, state: str) -> str:
        """A new agreement of the employee in `state`, the read models caught up."""
        w = self.world
        if state == "person":  # the employee's entry, as the last action left it
            w.sync()
            return ""
        if state == "wave":  # an identity provider deactivates more than the guard lets by
            scim = integration(self.api)
            statuses = [
                scim.request("PATCH", f"/Users/{scim.create(f'w{i}')['id']}", INACTIVE)
                for i in range(8)
            ]
            assert statuses[-1].status_code == 202, statuses[-1].text  # held
            w.sync()
            return ""
        if state == "proposed":
            aid = str(agreement_uuid(w.propose()["id"]))
        else:
            aid = str(agreement_uuid(w.active()["id"]))
        w.sync()
        extra = {
            "paused": ["pause"],
            "changed": ["adjust"],
            "completed": ["complete"],
            "outcome": ["complete", "outcome"],  # completed, with an outcome in effect
        }
        for action in extra.get(state, []):
            done = self.send("manager", aid, f"/agreements/{{agreement_id}}/{action}")
            assert done.status_code == 303, done.text
            w.sync()
        return aid

    def url(self, path: str, aid: str, person: str | None = None) -> str:
        return (
            path.replace("{agreement_id}", aid)
            .replace("{person_id}", person or self.world.ids["emp"])
            .replace("{list}", "changes")
        )

    def form(self, who: str, aid: str, path: str) -> dict[str, str]:
        """The fields of the form `who` is shown for the action `path` on `aid`, with
        the action's plausible values (every field the form has gets one)."""
        action = ACTIONS[path]
        target = self.url(path, aid)
        shown = f"/agreements/{aid}" + (action.form and f"/{action.form}")
        own = self.url(action.form, aid)
        page = self.clients[who].get(own if action.form.startswith("/") else shown)
        assert page.status_code == 200, (who, path, page.text)
        fields, hidden = form_fields(page.text, target)
        values = {k: self.fill(v) for k, v in action.values.items()}
        unfilled = set(fields) - hidden - set(values)
        assert all(name.endswith("kind") or name == "outcome" for name in unfilled), unfilled
        return fields | {k: v for k, v in values.items() if k in fields}

    def send(
        self,
        who: str,
        aid: str,
        path: str,
        fields: dict[str, str] | None = None,
        person: str | None = None,
    ) -> Any:
        """`who` sends the action's form, as the allowed person's page has it unless
        `fields` are given, with `who`'s own CSRF token and a fresh idempotency key."""
        target = self.url(path, aid, person)
        if fields is None:
            fields = self.form(who, aid, path)
        sent = fields | {
            "csrf_token": self.tokens[who],
            "idempotency_key": uuid4().hex,
            "confirmed": "yes",  # the actions that cannot be undone are asked first
        }
        return self.clients[who].post(target, data=sent)


def test_every_web_route_is_in_the_matrix(api: Api) -> None:
    routes = web_routes(api)
    classified = (
        PUBLIC
        | OWN
        | {("GET", p) for p in PAGES}
        | {("POST", p) for p in ACTIONS}
        | {("POST", p) for p in DOWNLOADS}
    )
    assert routes - classified == set(), "classify these routes in test_web_access.py"
    assert classified - routes <= OPTIONAL, "routes the app no longer has"


def test_every_page_shows_to_whom_it_may_and_is_the_same_404_to_everyone_else(
    api: Api,
) -> None:
    m = Matrix(api)
    agreements = {state: m.agreement(state) for state in ("proposed", "active", "changed")}
    before = api.position()
    for path, page in PAGES.items():
        query = m.fill(page.query)
        aid = agreements[page.state]
        for who, client in m.clients.items():
            response = client.get(m.url(path, aid), params=query)
            if who in page.who:
                assert response.status_code == 200, (path, who, response.text)
            else:
                assert response.status_code == 404, (path, who, response.status_code)
                assert _same_page(response.text) == m.not_found[who], (path, who)
            # A made-up or malformed id is not found for anyone, the same way.
            if "{" in path:
                person = f"nobody-{m.world.s}"
                for made_up in (MADE_UP, MALFORMED):
                    missing = client.get(m.url(path, made_up, person), params=query)
                    assert missing.status_code == 404, (path, who, made_up)
                    assert _same_page(missing.text) == m.not_found[who], (path, who, made_up)
    assert api.position() == before  # pages record nothing


def test_every_action_is_refused_as_not_found_to_everyone_else_recording_nothing(
    api: Api,
) -> None:
    m = Matrix(api)
    for path, action in ACTIONS.items():
        aid = "" if action.state == "none" else m.agreement(action.state)
        allowed = sorted(action.who)[0]
        fields = m.form(allowed, aid, path)
        before = api.position()
        for who in EVERYONE - action.who:
            refused = m.send(who, aid, path, fields)
            assert refused.status_code == 404, (path, who, refused.status_code, refused.text)
            assert _same_page(refused.text) == m.not_found[who], (path, who)
        if "{" in path:
            for who in EVERYONE:
                for made_up in (MADE_UP, MALFORMED):
                    missing = m.send(who, made_up, path, fields, person=made_up)
                    assert missing.status_code == 404, (path, who, made_up, missing.text)
                    assert _same_page(missing.text) == m.not_found[who], (path, who, made_up)
        assert api.position() == before, path
        # Each one allowed succeeds from the form they are shown.
        for who in sorted(action.who):
            aid = "" if action.state == "none" else m.agreement(action.state)
            before = api.position()
            done = m.send(who, aid, path)
            assert done.status_code == 303, (path, who, _messages(done.text))
            where = next(
                (p for p in ("/people/", "/deactivations") if path.startswith(p)), "/agreements/"
            )
            assert done.headers["location"].startswith(where)
            assert api.position() > before, (path, who)


@pytest.mark.pdf
def test_every_download_is_for_whom_it_may_be_and_the_same_404_to_everyone_else(
    api: Api,
) -> None:
    m = Matrix(api)
    for path, who_may in DOWNLOADS.items():
        aid = m.agreement("active")
        before = api.position()
        for who in EVERYONE - who_may:
            refused = m.send(who, aid, path, {})
            assert refused.status_code == 404, (path, who, refused.status_code)
            assert _same_page(refused.text) == m.not_found[who], (path, who)
        for who in EVERYONE:
            for made_up in (MADE_UP, MALFORMED):
                person = made_up if "{person_id}" in path else None  # someone unknown
                missing = m.send(who, made_up, path, {}, person)
                assert missing.status_code == 404, (path, who, made_up)
                assert _same_page(missing.text) == m.not_found[who], (path, who, made_up)
        assert api.position() == before, path  # refusals record nothing
        for who in sorted(who_may):
            before = api.position()
            done = m.send(who, aid, path, {})
            assert done.status_code == 200, (path, who, done.text[:300])
            assert done.headers["content-type"] == "application/pdf"
            assert api.position() > before, (path, who)  # the issue is recorded


def test_signed_out_every_page_and_form_leads_to_sign_in_recording_nothing(api: Api) -> None:
    m = Matrix(api)
    aid = m.agreement("active")
    out = browser(api.client)
    before = api.position()
    for method, path in sorted(web_routes(api) - PUBLIC):
        url = m.url(path, aid)
        if method == "GET":
            response = out.get(url, params=m.fill(PAGES[path].query))
        else:
            response = out.post(url, data={"reason": "x", "idempotency_key": uuid4().hex})
        assert response.status_code == 303, (method, path, response.status_code)
        assert response.headers["location"] == "/signin", (method, path)
    assert api.position() == before
