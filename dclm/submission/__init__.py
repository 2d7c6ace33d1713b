"""Leaderboard submissions: packaging (``package``), safe reading (``safe_archive``), validation
(``validate``, ``consistency``, ``claims``) and ranking (``rank``). The format is described in ``layout``
and its submission.json in ``submission.schema.v1.json``."""
