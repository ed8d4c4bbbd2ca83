"""The split optimizer's stages, one module each; ``routing.optimizer.Router`` runs them.

For one order: ``candidates`` (the token paths to price, the candidate network and the
pricing network) → ``fast_path`` (is the best single path already optimal?) → ``model``
(the LP's edges, per-token scales and piecewise-linear breakpoints from ``curves``) →
``solve`` (GLOP or SCIP; the only module that imports OR-Tools and scipy) →
``resimulate`` (exact integer legs for the model's flows) → ``pricing`` (column
generation: pools outside the model that would pay) → ``prune`` (pools not worth their
gas) → ``explain`` (one sentence per decision). ``curves.CurveCache`` holds the exact
pool-math samples every stage reads; the router keeps one across orders.
"""
