"""Compact progress for the `billing` command: one line per step, dbt models counted, our own
messages shown, failures explained without a stack trace."""
from __future__ import annotations

import logging
import sys
import time

import dagster as dg

STEP_NAMES = {
    "catalog": "catalog",
    "landed_events": "events landing",
    "ledger__approvals": "approvals",
    "billing_dbt_models": "dbt models and tests",
    "invoice_documents": "invoice documents",
    "ledger__close_runs": "run record",
    "review_report": "review report",
    "fees_fees_pandera_schema": "check: fees pandera schema",
    "invoices_invoices_pandera_schema": "check: invoices pandera schema",
}


class ProgressHandler(logging.Handler):
    def __init__(self, stream=None, quiet: bool = False):
        super().__init__(logging.DEBUG)
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.started: dict[str, float] = {}
        self.models = 0
        self.failures: list[str] = []

    def say(self, text: str) -> None:
        if not self.quiet:
            print(text, file=self.stream, flush=True)

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", {}) or {}
        event = meta.get("dagster_event")
        step = meta.get("step_key") or ""
        name = STEP_NAMES.get(step, step.replace("_", " "))
        if event is None:
            ours = step != "billing_dbt_models" and record.levelno >= logging.INFO
            if ours or record.levelno >= logging.WARNING:
                self.say(f"    {meta.get('orig_message', record.getMessage())}")
            return
        kind = event.event_type_value
        if kind == "STEP_START":
            self.started[step] = time.monotonic()
            if not step.endswith("_contract"):
                self.say(f"  … {name}")
            self.models = 0 if step == "billing_dbt_models" else self.models
        elif kind == "STEP_SUCCESS":
            took = time.monotonic() - self.started.get(step, time.monotonic())
            extra = f", {self.models} built" if step == "billing_dbt_models" else ""
            if not step.endswith("_contract"):
                self.say(f"  ✓ {name} ({took:.1f} s{extra})")
        elif kind == "ASSET_MATERIALIZATION" and step == "billing_dbt_models":
            self.models += 1
        elif kind == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            evaluation = getattr(data, "asset_check_key", None)
            if data is not None and not data.passed:
                label = evaluation.name if evaluation else "check"
                description = data.description or ""
                self.failures.append(f"check {label} failed {description}".strip())
                self.say(f"  ✗ check {label} failed {description}")
        elif kind == "STEP_FAILURE":
            error = event.event_specific_data.error if event.event_specific_data else None
            if error is not None and error.cls_name == "DagsterAssetCheckFailedError":
                return  # the failed check was reported when it was evaluated
            message = _failure_message(error)
            self.failures.append(f"{name}: {message}")
            self.say(f"  ✗ {name} failed")
            if error is not None:  # the whole trace goes to the run's log (stdout is the log)
                print(f"--- {name} failed ---\n{error.to_string()}", file=sys.stdout, flush=True)


def _failure_message(error) -> str:
    if error is None:
        return "step failed"
    # dg.Failure raised by our assets carries the user-facing text as its description.
    chain = [error] + list(_causes(error))
    for candidate in chain:
        if candidate.cls_name == "Failure":
            return candidate.message.removeprefix("dagster._core.definitions.events.Failure: ")
    deepest = chain[-1]
    return f"{deepest.cls_name}: {deepest.message.strip().splitlines()[0]}"        if deepest.message.strip() else deepest.cls_name


def _causes(error):
    while error is not None:
        error = error.cause or error.context
        if error is not None:
            yield error



@dg.logger(config_schema={"quiet": dg.Field(bool, default_value=False)},
           description="One line per step of a close, for the `billing` command.")
def progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.getLogger("billing.progress")
    logger.setLevel(logging.DEBUG)  # step events are DEBUG records; emit() picks what to show
    logger.propagate = False
    logger.handlers = [ProgressHandler(quiet=init_context.logger_config["quiet"])]
    return logger


def current_handler() -> ProgressHandler | None:
    handlers = logging.getLogger("billing.progress").handlers
    return handlers[0] if handlers and isinstance(handlers[0], ProgressHandler) else None
