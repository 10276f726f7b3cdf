"""Resolve every subscription to concrete plan rows: plan versions and plan overrides.

Plans are data. A plan with versions, or a subscription with `plan_overrides`, does not add a
model: the loader turns each into one more row of the catalog's plan tables, under a derived
code, and points the subscription at it. The dbt models read plan rows and never know.

- **Versions.** Entries of plans.yaml sharing a code with distinct `effective_from` are the
  versions of one plan. The earliest keeps the code; each later one is `<code>@v<date>` (the
  UTC date of its effective_from, or the whole instant when two versions share a date), so
  adding a version never renames the rows earlier invoices were billed on.
- **Overrides.** A subscription's `plan_overrides` make a copy of the version it starts on,
  `<version code>@<external_subscription_id>`, with the overridden fields; the copy is checked
  with the plan rules, and its problems are reported on the subscription.

`derived` rows keep the name of their plan, and `parent_plan_code` (catalog.plans) names the
code as written in plans.yaml.
"""
from __future__ import annotations

import bisect
import datetime as dt
import re
from dataclasses import dataclass, field

from .schema import (
    Charge, MinimumCommitment, Plan, PlanChange, PlanOverrides, PlanVersionChange, Subscription,
)

NEVER = dt.datetime.min.replace(tzinfo=dt.timezone.utc)


def instant_text(moment: dt.datetime | None) -> str:
    if moment is None:
        return "none"
    moment = moment.astimezone(dt.timezone.utc)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}"
    return text + "Z"


# --- versions -----------------------------------------------------------------------------------


@dataclass
class PlanFamily:
    """The versions of one plan code, oldest first, each under its concrete code."""

    code: str
    versions: list[Plan]                      # concrete rows: .code is the derived code
    starts: list[dt.datetime] = field(default_factory=list)  # effective_from, NEVER if unset

    def __post_init__(self) -> None:
        self.starts = [p.effective_from or NEVER for p in self.versions]

    @property
    def versioned(self) -> bool:
        return len(self.versions) > 1 or self.versions[0].effective_from is not None

    def in_force(self, at: dt.datetime) -> Plan | None:
        """The version in force at an instant (the latest effective_from at or before it)."""
        index = bisect.bisect_right(self.starts, at) - 1
        return self.versions[index] if index >= 0 else None

    def after(self, start: dt.datetime, end: dt.datetime | None) -> list[Plan]:
        """Versions taking effect strictly after `start` and strictly before `end`."""
        first = bisect.bisect_right(self.starts, start)
        return [v for v in self.versions[first:] if end is None or v.effective_from < end]

    def label(self, plan: Plan) -> str:
        if not self.versioned:
            return f'plan "{self.code}"'
        return f'plan "{self.code}" (effective_from {instant_text(plan.effective_from)})'

    def not_in_force(self, at: dt.datetime) -> str:
        return (f"plan {self.code!r} has no version in force at {instant_text(at)} (its first "
                f"version is effective from {instant_text(self.versions[0].effective_from)})")


def version_codes(code: str, versions: list[Plan]) -> list[str]:
    """`code` for the earliest version, `code@v<YYYY-MM-DD>` for each later one (the whole
    instant when two versions take effect on the same UTC date)."""
    dates = [v.effective_from.astimezone(dt.timezone.utc).date() if v.effective_from else None
             for v in versions]
    codes = [code]
    for version, date in zip(versions[1:], dates[1:]):
        suffix = date.isoformat() if dates.count(date) == 1 else instant_text(
            version.effective_from)
        codes.append(f"{code}@v{suffix}")
    return codes


# --- overrides ----------------------------------------------------------------------------------

# Charge fields an override may set (Lago's ChargeOverridableInput), and the fields it may only
# repeat.
CHARGE_OVERRIDABLE = ("invoice_display_name", "min_amount_cents", "properties", "filters",
                      "tax_codes")
CHARGE_FIXED = ("charge_model", "pay_in_advance", "invoiceable", "prorated")
PLAN_OVERRIDABLE = ("amount_cents", "name", "invoice_display_name", "trial_period", "tax_codes",
                    "usage_thresholds")


def _given(obj, name: str) -> bool:
    return name in obj.model_fields_set and getattr(obj, name) is not None


def has_overrides(overrides: PlanOverrides | None) -> bool:
    if overrides is None:
        return False
    return bool(overrides.charges) or any(
        _given(overrides, name) for name in (*PLAN_OVERRIDABLE, "amount_currency",
                                             "minimum_commitment"))


@dataclass
class Overridden:
    """A plan with a subscription's overrides applied, and how to name its fields back in the
    subscription's `plan_overrides`."""

    plan: Plan                                        # without the refused overrides
    problems: list[tuple[str, str]]                   # (field, message), fields in the sub
    charge_of: dict[int, int] = field(default_factory=dict)   # plan charge -> override index
    charge_fields: dict[int, set[str]] = field(default_factory=dict)
    plan_fields: set[str] = field(default_factory=set)
    commitment_fields: set[str] = field(default_factory=set)

    _CHARGE = re.compile(r"charges\[(\d+)\]\.(\w+)(.*)$", re.S)

    def field_in_overrides(self, fld: str) -> str | None:
        """A field of the overridden plan, as a field of the subscription's plan_overrides;
        None when the value comes from the plan (its problems are reported on plans.yaml)."""
        match = self._CHARGE.match(fld)
        if match:
            index = self.charge_of.get(int(match[1]))
            if index is None or match[2] not in self.charge_fields[index]:
                return None
            return f"plan_overrides.charges[{index}].{match[2]}{match[3]}"
        head = fld.split(".", 1)[0].split("[", 1)[0]
        if head == "minimum_commitment":
            sub = fld.split(".", 2)[1].split("[", 1)[0] if "." in fld else ""
            return f"plan_overrides.{fld}" if sub in self.commitment_fields else None
        return f"plan_overrides.{fld}" if head in self.plan_fields else None


def apply_overrides(plan: Plan, overrides: PlanOverrides, code: str) -> Overridden:
    """A copy of `plan` under `code` with the overrides applied (Lago's Plans::OverrideService:
    a given field replaces the plan's, lists and charge properties as a whole)."""
    out = Overridden(plan=plan, problems=[])
    problem = out.problems.append
    update: dict = {"code": code, "effective_from": None}

    if _given(overrides, "amount_currency") and overrides.amount_currency != plan.amount_currency:
        problem(("plan_overrides.amount_currency",
                 f"a subscription cannot change its plan's currency (plan {plan.code!r} is "
                 f"billed in {plan.amount_currency}); subscribe the customer to a plan in "
                 f"{overrides.amount_currency} instead"))
    for name in PLAN_OVERRIDABLE:
        if _given(overrides, name):
            update[name] = getattr(overrides, name)
            out.plan_fields.add(name)

    if _given(overrides, "minimum_commitment"):
        given = overrides.minimum_commitment
        base = plan.minimum_commitment
        out.commitment_fields = {n for n in ("amount_cents", "invoice_display_name", "tax_codes")
                                 if _given(given, n)}
        amount = given.amount_cents if given.amount_cents is not None else (
            base.amount_cents if base else None)
        if amount is None:
            problem(("plan_overrides.minimum_commitment.amount_cents",
                     f"is required: plan {plan.code!r} has no minimum commitment to adjust"))
        else:
            update["minimum_commitment"] = MinimumCommitment(
                amount_cents=amount,
                invoice_display_name=(given.invoice_display_name
                                      if _given(given, "invoice_display_name")
                                      else base.invoice_display_name if base else None),
                tax_codes=(given.tax_codes if _given(given, "tax_codes")
                           else base.tax_codes if base else None))

    charges: list[Charge] = list(plan.charges)
    claimed: dict[int, int] = {}
    for j, wanted in enumerate(overrides.charges):
        here = f"plan_overrides.charges[{j}]"
        index, message = _match_charge(plan, wanted.billable_metric_code, wanted.code)
        if index is None:
            problem((f"{here}.{'code' if wanted.code else 'billable_metric_code'}", message))
            continue
        if index in claimed:
            problem((f"{here}.{'code' if wanted.code else 'billable_metric_code'}",
                     f"overrides the same charge as plan_overrides.charges[{claimed[index]}]; "
                     f"give each charge once"))
            continue
        claimed[index] = j
        charge = plan.charges[index]
        refused = False
        for name in CHARGE_FIXED:
            if _given(wanted, name) and getattr(wanted, name) != getattr(charge, name):
                problem((f"{here}.{name}",
                         f"a subscription cannot change a charge's {name} (plan {plan.code!r} "
                         f"charges {charge.billable_metric_code} with {name} "
                         f"{getattr(charge, name)!r}); only {', '.join(CHARGE_OVERRIDABLE)} "
                         f"can be overridden"))
                refused = True
        if refused:
            continue
        fields = {name for name in CHARGE_OVERRIDABLE if _given(wanted, name)}
        out.charge_of[index] = j
        out.charge_fields[j] = fields
        charges[index] = charge.model_copy(update={name: getattr(wanted, name) for name in fields})
    update["charges"] = charges
    out.plan = plan.model_copy(update=update)
    return out


def _match_charge(plan: Plan, metric: str | None, code: str | None) -> tuple[int | None, str]:
    if code is not None:
        found = [i for i, c in enumerate(plan.charges) if c.code == code]
        if not found:
            known = ", ".join(sorted(c.code for c in plan.charges if c.code)) or "none"
            return None, f"plan {plan.code!r} has no charge with code {code!r} (codes: {known})"
        if metric is not None and plan.charges[found[0]].billable_metric_code != metric:
            return None, (f"charge {code!r} of plan {plan.code!r} prices "
                          f"{plan.charges[found[0]].billable_metric_code}, not {metric}")
        return found[0], ""
    if metric is None:
        return None, "is required: name the charge to override by billable_metric_code (or code)"
    found = [i for i, c in enumerate(plan.charges) if c.billable_metric_code == metric]
    if not found:
        known = ", ".join(c.billable_metric_code for c in plan.charges) or "none"
        return None, (f"plan {plan.code!r} has no charge on billable metric {metric!r} "
                      f"(charges on: {known}); an override cannot add a charge")
    if len(found) > 1:
        return None, (f"plan {plan.code!r} has {len(found)} charges on {metric!r}; name the one "
                      f"to override by its code")
    return found[0], ""


# --- following plan updates ---------------------------------------------------------------------


def followed_versions(sub: Subscription, start: dt.datetime,
                      stretches: list[tuple[dt.datetime, PlanFamily]]) -> list[PlanChange]:
    """For a subscription that follows plan updates: a change to each new version of the plan
    it is on, at the version's effective_from. `stretches` are (from, family) for the initial
    plan and each requested change, in time order; a stretch ends at the next request."""
    changes: list[PlanChange] = []
    for k, (begin, family) in enumerate(stretches):
        end = stretches[k + 1][0] if k + 1 < len(stretches) else None
        if sub.terminated_at is not None and (end is None or sub.terminated_at < end):
            end = sub.terminated_at
        for version in family.after(max(begin, start), end):
            changes.append(PlanVersionChange(plan_code=version.code,
                                             requested_at=version.effective_from))
    return changes
