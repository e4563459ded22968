"""What the test modules share: no test module imports from another one, only from here.

    repos.py        real git repositories (git, make_repo), the fixture files and the fixed date
    cli.py          the CLI as a real process, the stand-in agents on PATH, world snapshots
    runs.py         runs made with the stand-in kimi through the CLI: streams, specs, records
    processes.py    waiting on a condition, whether a process is gone, releasing a stand-in
    pilot.py        the real app driven by Textual's Pilot: the run and review screens
    pilot_plans.py  the app started on the plans screen: plans, the spec screen
    e2e.py          the real agent CLIs: their config, scripted turns, the real binaries
    fake_agent.py   a fake agent CLI for the installer's own tests
    transcripts.py  Claude Code transcripts of a plan-mode session, for any directory and plan
    agent_clis.py   installs the real agent CLIs (`python -m tests.support.agent_clis`)
    servers/        scripted model servers the real CLIs talk to
    standin/        the replaying stand-in `kimi` and `claude`

Shared pytest fixtures live in conftest.py files (tests/, tests/core/, tests/ui/), not here.
"""
