"""The dashboard's views: ``app.py`` is the frame, and each tab is one module here.

- ``intake``: fetch from PubMed, import PubMed XML, citation metrics, the first-run welcome.
- ``browse``: the table and the record pane (``record_navigation``, ``record_detail``,
  ``screening_form``), the exports, and ``conflicts`` for dual screening.
- ``evidence``: the evidence map and the leaflet's claims. ``overview``: counts, charts and
  the PRISMA flow. ``runs``: the search log.
- Shared by all of them: ``library_cache`` (the one place the store is opened and the one
  cache key of every loader), ``sidebar`` (who screens, and which records), ``messages``
  (errors and success lines) and ``downloads`` (file buttons).

Each component owns the session-state keys it declares as constants and hands back what the
page needs as return values; no view reads another view's keys. Views import only the curated
``tracker`` API, and importing one has no side effects: settings and the store arrive as
arguments on every run.
"""
