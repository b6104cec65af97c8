"""Check-author tools for the process and worker families (submission side).

`inspector` sees the processes a call created (who did the work, what was left
behind, how much CPU each used and whether distinct processes ran at once);
`faults` holds picklable tasks that make a worker die in every way a worker can;
`tasks` holds picklable work for pipelines and pools; `chaos` talks to a
kvserver the way hostile networks and clients do; `server_launch` starts a
learner's server in a child, optionally with its thread switches widened.
These modules run inside the sandboxed child; they never import `grading`.
"""
