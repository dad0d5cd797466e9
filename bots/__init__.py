"""Playwright bots that read, quote and book renewals in client portals."""

from bots._browser import launch_options
from bots._check import SelectorReport, check_selectors
from bots._errors import BusinessError, EngagementRefused, PortalError, SelectorDrift
from bots._fleet import defer_scheduled_run, run_worker, start_fleet_run, tasks
from bots._fleet_process import FleetProcess
from bots._metrics import Metrics, MetricsPortTaken
from bots._outcomes import Failure, Outcome, classify, failure
from bots._runner import RunOptions, RunResult, run_engagement
from bots._session import Credentials, login
from bots.portals.base import PortalBot

__all__ = [
    "BusinessError",
    "Credentials",
    "FleetProcess",
    "EngagementRefused",
    "Failure",
    "Metrics",
    "MetricsPortTaken",
    "Outcome",
    "PortalBot",
    "PortalError",
    "RunOptions",
    "RunResult",
    "SelectorDrift",
    "SelectorReport",
    "check_selectors",
    "defer_scheduled_run",
    "classify",
    "failure",
    "launch_options",
    "login",
    "run_engagement",
    "run_worker",
    "start_fleet_run",
    "tasks",
]
