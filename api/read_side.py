"""What the web app reads of the read models, by name: the read functions its pages run
(each takes the connection and the read model, inside `Reads.run`) and the row types its
templates show. The web app imports these from here, never `projections` itself
(import-linter: "The web app reads through api.read_side"), so the read side can change
its modules without touching the pages."""

from __future__ import annotations

from projections.career import CareerRows as CareerRows
from projections.career import career_evidence as career_evidence
from projections.career import career_rows as career_rows
from projections.history import Timeline as Timeline
from projections.history import people_after as people_after
from projections.history import people_in as people_in
from projections.history import reverted_change as reverted_change
from projections.history import timeline as timeline
from projections.holds import erasure_of as erasure_of
from projections.holds import hold_reason as hold_reason
from projections.holds import holds_of as holds_of
from projections.inbox import inbox as inbox
from projections.inbox import waiting as waiting
from projections.insights.figures import Insights as Insights
from projections.insights.figures import Month as Month
from projections.insights.figures import ReleasedRow as ReleasedRow
from projections.insights.figures import Table as Table
from projections.insights.path import path_rows as path_rows
from projections.insights.path import step as _path_step
from projections.queries import NAMED as NAMED
from projections.queries import AgreementCriteria as AgreementCriteria
from projections.queries import Around as Around
from projections.queries import AuditFilter as AuditFilter
from projections.queries import Cursor as Cursor
from projections.queries import Named as Named
from projections.queries import ReadScope as ReadScope
from projections.queries import Slice as Slice
from projections.queries import agreements_by_id as agreements_by_id
from projections.queries import audit_log as audit_log
from projections.queries import children as children
from projections.queries import children_by_id as children_by_id
from projections.queries import cursor_of as cursor_of
from projections.queries import list_agreements as list_agreements
from projections.queries import list_slice as list_slice
from projections.queries import net_received as net_received
from projections.queries import people_around as people_around
from projections.queries import people_by_id as people_by_id
from projections.queries import reports_of as reports_of
from projections.reports import reports as reports
from projections.rows import Row as Row
from projections.rows import agreement_row as agreement_row
from projections.sketches import sketch_of_row as sketch_of_row
from projections.tables import ReadModel as ReadModel
from projections.workload import may_see_workloads as may_see_workloads
from projections.workload import team_members as team_members
from projections.workload import visible_teams as visible_teams

path_step = _path_step  # one agreement's place on a person's path (`path_rows`)
