"""The console's pages, one module each: a Controller whose handlers take the ``page``
dependency (``server.console.web.Page``), call one use case and render one template.
``PAGES`` lists them for ``server.console.router``; each module appends its navigation
entry to ``server.console.web.NAV``, so the order of these imports is the navigation's."""

from server.console.pages import session  # noqa: I001 (the order below is the navigation's)
from server.console.pages import dashboard
from server.console.pages import residents
from server.console.pages import reviews
from server.console.pages import voice
from server.console.pages import tasks
from server.console.pages import reports
from server.console.pages import reference
from server.console.pages import counties
from server.console.pages import register
from server.console.pages import accounts

PAGES = [session.SessionPages, dashboard.DashboardPage, residents.ResidentPages, reviews.ReviewPages, voice.VoicePages, tasks.TaskPages, reports.ReportPages,
         reference.ReferencePages, counties.CountyPages, register.RegisterPages, accounts.AccountPages]
