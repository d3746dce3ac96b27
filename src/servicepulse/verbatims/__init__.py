"""Verbatims: open answers analysed with the text kernel and stored, their themes' effect on the scores,
the department report, and the dashboard pages.

- ``analysis.analyse_responses(session, ...)``: redact, detect language, find themes, score sentiment, store.
- ``codeframes``: the code frame in use (stored in the database) and the theme owners (departments).
- ``impact.theme_impact(session, ...)``: per theme its volume, trend and effect on NPS, grade and CES.
- ``repository.theme_matrix(session, ...)``: response_id x theme 0/1 indicators (for key-driver analysis).
- ``report.department_report(session, department_key, ...)``: the eye-opener for one department.
- ``jobs``: the background job ``verbatims.analyse``; ``enqueue_analysis(session, response_ids)``.
"""

from servicepulse.verbatims.erasure import erase_customer, purge_texts_before
from servicepulse.verbatims.settings import VerbatimSettings, current_verbatim_settings

__all__ = ["VerbatimSettings", "current_verbatim_settings", "erase_customer", "purge_texts_before"]
