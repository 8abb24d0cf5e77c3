"""The console's pages, one module each: a Controller whose handlers take the ``page``
dependency (``server.console.web.Page``), call one use case and render one template.
``PAGES`` lists them for ``server.console.router``; each module appends its navigation
entry to ``server.console.web.NAV``."""

from server.console.pages import dashboard, residents, reviews, session

PAGES = [session.SessionPages, dashboard.DashboardPage, residents.ResidentPages, reviews.ReviewPages]
