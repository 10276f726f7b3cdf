"""Read a catalog folder and refuse it, with every problem named, unless it is sound.

A problem names the file, the object (by its code) and the field, and says what was expected:

    plans.yaml: plan "startup": charges[0].billable_metric_code: unknown billable metric "api_cals"
    (known: api_calls, storage_gb)

Nothing is computed from a catalog that has a problem.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .errors import CatalogError, CatalogIssue
from .expressions import ExpressionError, translate_expression
from .resolve import (
    PlanFamily, apply_overrides, followed_versions, has_overrides, instant_text, version_codes,
)
from .schema import (
    WALLET_FEE_TYPES, AddOn, AppliedCoupon, BillableMetric, Charge, ChargeProperties, Coupon,
    CreditNoteRequest, Customer, Document, OneOffInvoice, Organization, Plan, Subscription,
    Tax, Wallet, _to_instant,
)

CURRENCIES_CSV = Path(__file__).resolve().parents[3] / "dbt_models" / "seeds" / "currencies.csv"
ALL_FILTER_VALUES = "__ALL_FILTER_VALUES__"

# file stem -> (model, key field, label). Order matters: later documents refer to earlier ones.
DOCUMENTS: dict[str, tuple[type[Document], str | None, str]] = {
    "organization": (Organization, None, "organization"),
    "taxes": (Tax, "code", "tax"),
    "billable_metrics": (BillableMetric, "code", "billable metric"),
    "plans": (Plan, "code", "plan"),
    "customers": (Customer, "external_id", "customer"),
    "subscriptions": (Subscription, "external_id", "subscription"),
    "coupons": (Coupon, "code", "coupon"),
    "applied_coupons": (AppliedCoupon, None, "applied coupon"),
    "add_ons": (AddOn, "code", "add-on"),
    "one_off_invoices": (OneOffInvoice, None, "one-off invoice"),
    "wallets": (Wallet, None, "wallet"),
    "credit_notes": (CreditNoteRequest, None, "credit note request"),
}
# Documents of later features: accepted here so that a catalog written for them loads; the
# features that read them validate them. (Every document of the contract is read now.)
LATER_DOCUMENTS: set[str] = set()
TABULAR_DOCUMENTS = {"customers", "subscriptions"}  # may also come as Parquet or CSV


def currency_exponents() -> dict[str, int]:
    with CURRENCIES_CSV.open() as f:
        return {row["currency"]: int(row["subunit_to_unit"]) for row in csv.DictReader(f)}


@dataclass
class Catalog:
    """A validated catalog: the objects, plus what was noticed but not refused."""

    folder: Path
    organization: Organization
    taxes: list[Tax]
    billable_metrics: list[BillableMetric]
    # Concrete plan rows: each plan version and each subscription's overridden plan is one,
    # under its own code (resolve.py); `plan_parents` maps a derived code to the code written
    # in plans.yaml.
    plans: list[Plan]
    customers: list[Customer]
    # As written, except `plan_code` and `plan_changes`, resolved to concrete plan codes
    # (plus a PlanVersionChange for each new version a follower moves to).
    subscriptions: list[Subscription]
    version: str                       # sha256 of the files' names and contents
    warnings: list[str] = field(default_factory=list)
    raw: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    plan_parents: dict[str, str] = field(default_factory=dict)
    coupons: list[Coupon] = field(default_factory=list)
    # applied_coupons.yaml in file order, each with the coupon's values its overrides leave
    applied_coupons: list["ResolvedAppliedCoupon"] = field(default_factory=list)
    add_ons: list[AddOn] = field(default_factory=list)
    # one_off_invoices.yaml in file order, each fee with the unit amount in force
    one_off_invoices: list["ResolvedOneOffInvoice"] = field(default_factory=list)
    # wallets.yaml in file order, as (position in the file, wallet)
    wallets: list[tuple[int, Wallet]] = field(default_factory=list)
    # credit_notes.yaml in file order, each with its request id
    credit_note_requests: list["ResolvedCreditNoteRequest"] = field(default_factory=list)


@dataclass(frozen=True)
class ResolvedCreditNoteRequest:
    """A credit note requested on an invoice. `request_id` names it for good (the invoice as
    the request names it, and `at`), so a request issued by one close is never issued again;
    `position` is its place in credit_notes.yaml, for messages."""

    request_id: str
    position: int
    label: str
    request: "CreditNoteRequest"


@dataclass(frozen=True)
class ResolvedAppliedCoupon:
    """A coupon applied to a customer, with the values in force: the application's overrides
    (amount_cents, amount_currency, percentage_rate, frequency, frequency_duration), else the
    coupon's. `applied_coupon_id` is `<customer>/<coupon>`, `#n` for the nth application of a
    reusable coupon to the same customer."""

    applied_coupon_id: str
    position: int
    external_customer_id: str
    coupon_code: str
    created_at: dt.datetime
    coupon_type: str
    amount_cents: int | None
    amount_currency: str | None
    percentage_rate: Decimal | None
    frequency: str
    frequency_duration: int | None


@dataclass(frozen=True)
class ResolvedOneOffFee:
    position: int
    add_on_code: str
    units: Decimal
    unit_amount_cents: int          # the fee's, else the add-on's amount_cents
    display_name: str               # the fee's invoice_display_name, else the add-on's name
    tax_codes: list[str] | None     # the fee's own tax codes (null: the add-on's, or defaults)


@dataclass(frozen=True)
class ResolvedOneOffInvoice:
    """A one-off invoice as it will be issued: `one_off_invoice_id` is `<customer>/<at>`,
    `#n` for the nth one-off invoice of that customer at the same instant; `currency` is the
    invoice's, else the customer's."""

    one_off_invoice_id: str
    position: int
    external_customer_id: str
    currency: str
    issued_at: dt.datetime
    fees: tuple[ResolvedOneOffFee, ...]


# --- reading files ------------------------------------------------------------------------------


def _read_documents(folder: Path, issues: list[CatalogIssue]) -> tuple[dict[str, list], str, list[str]]:
    if not folder.is_dir():
        raise CatalogError([CatalogIssue(str(folder), "", "", "catalog folder not found")])
    docs: dict[str, list] = {}
    warnings: list[str] = []
    digest = hashlib.sha256()
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        stem, suffix = path.stem, path.suffix.lower()
        if suffix in (".yaml", ".yml"):
            items = _read_yaml(path, issues)
        elif suffix in (".csv", ".parquet") and stem in TABULAR_DOCUMENTS:
            items = _read_table(path, issues)
        elif suffix in (".md", ".txt"):
            continue
        else:
            warnings.append(f"{path.name}: ignored (not a catalog document)")
            continue
        if items is None:
            continue
        if stem not in DOCUMENTS and stem not in LATER_DOCUMENTS:
            warnings.append(f"{path.name}: ignored (unknown document; expected one of "
                            f"{', '.join(sorted(set(DOCUMENTS) | LATER_DOCUMENTS))})")
            continue
        if stem in docs:
            issues.append(CatalogIssue(path.name, "", "", f"{stem} is given twice (in two files)"))
            continue
        docs[stem] = items
    return docs, digest.hexdigest(), warnings


# libyaml's safe loader when PyYAML was built with it: the same documents, ~10x faster (a
# catalog of thousands of subscriptions parses in a fraction of a second).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path, issues: list[CatalogIssue]) -> list | None:
    try:
        loaded = yaml.load(path.read_text(), Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        issues.append(CatalogIssue(path.name, "", "", f"not valid YAML{where}: {problem}"))
        return None
    except UnicodeDecodeError:
        issues.append(CatalogIssue(path.name, "", "", "not UTF-8 text"))
        return None
    if loaded is None:
        return []
    if isinstance(loaded, dict):
        loaded = [loaded]
    if not isinstance(loaded, list):
        issues.append(CatalogIssue(path.name, "", "", "expected a list of objects"))
        return None
    return loaded


def _read_table(path: Path, issues: list[CatalogIssue]) -> list | None:
    import polars as pl

    try:
        frame = pl.read_parquet(path) if path.suffix.lower() == ".parquet" else pl.read_csv(
            path, infer_schema_length=0)
    except Exception as exc:  # noqa: BLE001 - any reader error is reported with the file name
        issues.append(CatalogIssue(path.name, "", "", f"cannot be read: {exc}"))
        return None
    rows = []
    for row in frame.to_dicts():
        rows.append({k: (None if v == "" else v) for k, v in row.items()})
    for row in rows:  # lists in a flat table are written "a;b"
        if isinstance(row.get("tax_codes"), str):
            row["tax_codes"] = [c for c in row["tax_codes"].split(";") if c]
    return rows


# --- shapes -------------------------------------------------------------------------------------


def _path(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _message(error: dict) -> str:
    kind, msg = error["type"], error["msg"]
    given = error.get("input")
    if kind == "missing":
        return "is required"
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"expected one of {expected} (got {given!r})"
    if kind.startswith("bool"):
        return f"expected true or false (got {given!r})"
    if kind in ("string_type",):
        return f"expected text (got {given!r})"
    if kind in ("list_type",):
        return f"expected a list (got {given!r})"
    if kind in ("dict_type", "model_type"):
        return f"expected an object with fields (got {given!r})"
    return f"{msg} (got {given!r})"


def _label(stem: str, key: str | None, item: Any, index: int) -> str:
    _, _, noun = DOCUMENTS[stem]
    if stem == "applied_coupons":
        return _applied_label(item, index)
    if stem == "one_off_invoices":
        return _one_off_label(item, index)
    if stem == "wallets":
        return _wallet_label(item, index)
    if stem == "credit_notes":
        return _credit_note_label(item, index)
    if key and isinstance(item, dict) and item.get(key) not in (None, ""):
        if stem == "plans" and item.get("effective_from") is not None:
            try:
                when = instant_text(_to_instant(item["effective_from"]))
            except ValueError:
                when = str(item["effective_from"])
            return f'{noun} "{item[key]}" (effective_from {when})'
        return f'{noun} "{item[key]}"'
    return f"{noun} #{index + 1}" if key else noun


def _parse(stem: str, items: list, issues: list[CatalogIssue], warnings: list[str],
           indexed: bool = False) -> list:
    """The objects that parse (with indexed=True, as (position in the file, object))."""
    model, key, _ = DOCUMENTS[stem]
    file = f"{stem}.yaml"
    parsed = []
    for index, item in enumerate(items):
        label = _label(stem, key, item, index)
        if not isinstance(item, dict):
            issues.append(CatalogIssue(file, label, "", f"expected an object, got {item!r}"))
            continue
        try:
            obj = model.model_validate(item)
        except ValidationError as exc:
            for error in exc.errors():
                issues.append(CatalogIssue(file, label, _path(error["loc"]), _message(error)))
            continue
        _warn_unknown_fields(obj, file, label, "", warnings)
        parsed.append((index, obj) if indexed else obj)
    return parsed


def _warn_unknown_fields(obj: BaseModel, file: str, label: str, prefix: str, warnings: list[str]):
    ignored = getattr(obj, "IGNORED_FIELDS", frozenset())
    for name in (obj.model_extra or {}):
        if name not in ignored:
            warnings.append(f"{file}: {label}: {prefix}{name}: unknown field, ignored")
    for name, value in obj:
        children = value if isinstance(value, list) else [value]
        for i, child in enumerate(children):
            if isinstance(child, BaseModel):
                where = f"{prefix}{name}[{i}]." if isinstance(value, list) else f"{prefix}{name}."
                _warn_unknown_fields(child, file, label, where, warnings)


# --- cross checks -------------------------------------------------------------------------------


class _Checker:
    def __init__(self, issues: list[CatalogIssue], currencies: dict[str, int] | None = None):
        self.issues = issues
        self.currencies = currencies if currencies is not None else currency_exponents()

    def add(self, file: str, obj: str, fld: str, message: str) -> None:
        self.issues.append(CatalogIssue(file, obj, fld, message))

    def unique(self, file: str, noun: str, objs: list, key: str) -> dict:
        seen: dict = {}
        for obj in objs:
            code = getattr(obj, key)
            if code in seen:
                self.add(file, f'{noun} "{code}"', key, f"{code!r} is defined twice")
            seen[code] = obj
        return seen

    def currency(self, file: str, obj: str, fld: str, code: str | None) -> None:
        if code is not None and code not in self.currencies:
            self.add(file, obj, fld, f"unknown currency {code!r} (expected an ISO 4217 code Lago "
                                     f"accepts, e.g. EUR, USD, JPY)")

    def timezone(self, file: str, obj: str, fld: str, name: str | None) -> None:
        if name is None:
            return
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            self.add(file, obj, fld, f"unknown time zone {name!r} (expected an IANA name such as "
                                     f"Europe/Paris or UTC)")

    def codes(self, file: str, obj: str, fld: str, codes: list[str] | None, known: dict, noun: str):
        for i, code in enumerate(codes or []):
            if code not in known:
                self.add(file, obj, f"{fld}[{i}]", _unknown(noun, code, known))


def _unknown(noun: str, code: str, known: dict) -> str:
    names = ", ".join(sorted(map(str, known))[:12]) or "none defined"
    return f"unknown {noun} {code!r} (known: {names})"


def _check_ranges(chk: _Checker, file: str, obj: str, fld: str, ranges: list | None,
                  plus_one_only: bool = False) -> None:
    if not ranges:
        chk.add(file, obj, fld, "needs at least one range")
        return
    previous_to: Decimal = Decimal(0)
    for i, rng in enumerate(ranges):
        here = f"{fld}[{i}]"
        start = rng.from_value
        allowed = {previous_to + 1} if (plus_one_only and i > 0) else {previous_to, previous_to + 1}
        if start not in allowed:
            expected = " or ".join(str(v) for v in sorted(allowed))
            what = "the first range must start at 0" if i == 0 else (
                f"must continue the previous range (to_value {previous_to}): expected "
                f"from_value {expected}; ranges may not overlap or leave a gap")
            chk.add(file, obj, f"{here}.from_value", f"{what} (got {start})")
        last = i == len(ranges) - 1
        if last and rng.to_value is not None:
            chk.add(file, obj, f"{here}.to_value",
                    f"the last range must be open-ended (to_value: null), got {rng.to_value}")
        if not last:
            if rng.to_value is None:
                chk.add(file, obj, f"{here}.to_value",
                        "only the last range may be open-ended; this one needs a to_value")
                return
            if rng.to_value <= start:
                chk.add(file, obj, f"{here}.to_value",
                        f"must be greater than from_value {start} (got {rng.to_value})")
            previous_to = rng.to_value


_REQUIRED_PROPERTIES = {
    "standard": ("amount",),
    "package": ("amount", "package_size"),
    "percentage": ("rate",),
}


def _check_properties(chk: _Checker, file: str, obj: str, fld: str, model: str,
                      props: ChargeProperties) -> None:
    for name in _REQUIRED_PROPERTIES.get(model, ()):
        if getattr(props, name) is None:
            chk.add(file, obj, f"{fld}.{name}", f"is required by the {model} charge model")
    if model == "package" and props.package_size is not None and props.package_size == 0:
        chk.add(file, obj, f"{fld}.package_size", "must be greater than 0")
    if model == "graduated":
        _check_ranges(chk, file, obj, f"{fld}.graduated_ranges", props.graduated_ranges)
    if model == "volume":
        _check_ranges(chk, file, obj, f"{fld}.volume_ranges", props.volume_ranges)
    if model == "graduated_percentage":
        _check_ranges(chk, file, obj, f"{fld}.graduated_percentage_ranges",
                      props.graduated_percentage_ranges, plus_one_only=True)
    low, high = props.per_transaction_min_amount, props.per_transaction_max_amount
    if low is not None and high is not None and low > high:
        chk.add(file, obj, f"{fld}.per_transaction_max_amount",
                f"must not be below per_transaction_min_amount {low} (got {high})")


def _check_charge(chk: _Checker, obj: str, index: int, charge: Charge, metrics: dict,
                  taxes: dict) -> None:
    file, fld = "plans.yaml", f"charges[{index}]"
    metric = metrics.get(charge.billable_metric_code)
    if metric is None:
        chk.add(file, obj, f"{fld}.billable_metric_code",
                _unknown("billable metric", charge.billable_metric_code, metrics))
        return
    agg, model = metric.aggregation_type, charge.charge_model
    _check_properties(chk, file, obj, f"{fld}.properties", model, charge.properties)
    if model == "dynamic" and agg != "sum_agg":
        chk.add(file, obj, f"{fld}.charge_model",
                f"the dynamic charge model needs a sum_agg metric ({metric.code} is {agg})")
    if charge.pay_in_advance and (model == "volume" or agg in (
            "max_agg", "latest_agg", "weighted_sum_agg")):
        chk.add(file, obj, f"{fld}.pay_in_advance",
                f"a {model} charge on a {agg} metric cannot be paid in advance")
    if not charge.pay_in_advance and not charge.invoiceable:
        chk.add(file, obj, f"{fld}.invoiceable", "must be true unless the charge is pay_in_advance")
    if charge.pay_in_advance and (charge.min_amount_cents or 0) > 0:
        chk.add(file, obj, f"{fld}.min_amount_cents",
                "a spending minimum applies to charges paid in arrears only")
    if charge.prorated:
        ok = agg != "weighted_sum_agg" and metric.recurring and (
            (charge.pay_in_advance and model == "standard")
            or (not charge.pay_in_advance and model in ("standard", "volume", "graduated")))
        if not ok:
            chk.add(file, obj, f"{fld}.prorated",
                    "proration needs a recurring (non weighted_sum) metric with the standard "
                    "model (in advance) or standard, volume or graduated (in arrears)")
    chk.codes(file, obj, f"{fld}.tax_codes", charge.tax_codes, taxes, "tax")
    declared = {f.key: set(f.values) for f in metric.filters}
    for j, flt in enumerate(charge.filters):
        here = f"{fld}.filters[{j}]"
        if not flt.values:
            chk.add(file, obj, f"{here}.values", "a filter needs at least one key")
        for key, values in flt.values.items():
            if key not in declared:
                chk.add(file, obj, f"{here}.values.{key}",
                        f"metric {metric.code} declares no filter {key!r} "
                        f"(declared: {', '.join(sorted(declared)) or 'none'})")
                continue
            for value in values:
                if value != ALL_FILTER_VALUES and value not in declared[key]:
                    chk.add(file, obj, f"{here}.values.{key}",
                            f"{value!r} is not a declared value of filter {key!r} "
                            f"(declared: {', '.join(sorted(declared[key]))})")
        _check_properties(chk, file, obj, f"{here}.properties", model, flt.properties)


def _check_plan(chk: _Checker, plan: Plan, obj: str, metrics: dict, taxes: dict) -> None:
    """The rules every plan row obeys, whether written in plans.yaml or derived from it."""
    chk.currency("plans.yaml", obj, "amount_currency", plan.amount_currency)
    chk.codes("plans.yaml", obj, "tax_codes", plan.tax_codes, taxes, "tax")
    if plan.bill_charges_monthly and plan.interval in ("weekly", "monthly"):
        chk.add("plans.yaml", obj, "bill_charges_monthly",
                f"only applies to quarterly, semiannual and yearly plans (this one is "
                f"{plan.interval})")
    if plan.minimum_commitment is not None:
        chk.codes("plans.yaml", obj, "minimum_commitment.tax_codes",
                  plan.minimum_commitment.tax_codes, taxes, "tax")
    for i, charge in enumerate(plan.charges):
        _check_charge(chk, obj, i, charge, metrics, taxes)


def _plan_families(chk: _Checker, plans: list[Plan]) -> dict[str, PlanFamily]:
    """Group plans.yaml by code: entries sharing a code with distinct effective_from are the
    versions of one plan, oldest first, each under its concrete code."""
    by_code: dict[str, list[Plan]] = {}
    for plan in plans:
        by_code.setdefault(plan.code, []).append(plan)
    families: dict[str, PlanFamily] = {}
    for code, entries in by_code.items():
        seen: set = set()
        kept = []
        for plan in entries:
            if plan.effective_from in seen:
                what = (f"{code!r} is defined twice (versions of a plan need distinct "
                        f"effective_from)" if plan.effective_from is None else
                        f"{code!r} is defined twice with the same effective_from "
                        f"({instant_text(plan.effective_from)}); versions of a plan need "
                        f"distinct effective_from")
                chk.add("plans.yaml", f'plan "{code}"', "code" if plan.effective_from is None
                        else "effective_from", what)
                continue
            seen.add(plan.effective_from)
            kept.append(plan)
        kept.sort(key=lambda p: p.effective_from or dt.datetime.min.replace(
            tzinfo=dt.timezone.utc))
        codes = version_codes(code, kept)
        families[code] = PlanFamily(code, [p if c == p.code else p.model_copy(update={"code": c})
                                           for p, c in zip(kept, codes)])
    for family in families.values():
        first = family.versions[0]
        for version in family.versions[1:]:
            obj = family.label(version)
            if version.amount_currency != first.amount_currency:
                chk.add("plans.yaml", obj, "amount_currency",
                        f"versions of a plan keep its currency ({first.amount_currency} in the "
                        f"first version, got {version.amount_currency})")
            if version.code in families:
                chk.add("plans.yaml", obj, "effective_from",
                        f"this version's code {version.code!r} is already a plan's code")
    return families


def _check_metric(chk: _Checker, metric: BillableMetric) -> None:
    file, obj = "billable_metrics.yaml", f'billable metric "{metric.code}"'
    agg = metric.aggregation_type
    if agg not in ("count_agg", "custom_agg") and not metric.field_name:
        chk.add(file, obj, "field_name", f"is required for {agg}")
    if metric.recurring and agg not in ("sum_agg", "unique_count_agg", "weighted_sum_agg",
                                        "custom_agg"):
        chk.add(file, obj, "recurring", f"{agg} metrics cannot be recurring")
    if agg == "custom_agg" and not metric.custom_aggregator:
        chk.add(file, obj, "custom_aggregator",
                "is required for custom_agg: a SQL aggregate over the events, e.g. "
                "sum(value) or max(value) - min(value)")
    if metric.rounding_precision is not None and metric.rounding_function is None:
        chk.add(file, obj, "rounding_function", "is required when rounding_precision is set")
    keys = [f.key for f in metric.filters]
    for i, key in enumerate(keys):
        if key in keys[:i]:
            chk.add(file, obj, f"filters[{i}].key", f"filter {key!r} is declared twice")
    if metric.expression:
        try:
            translate_expression(metric.expression)
        except ExpressionError as exc:
            chk.add(file, obj, "expression", str(exc))
        if not metric.field_name:
            chk.add(file, obj, "field_name", "is required with an expression (it names the "
                                             "value the expression computes)")
    if metric.custom_aggregator:
        from .expressions import check_custom_aggregator
        problem = check_custom_aggregator(metric.custom_aggregator)
        if problem:
            chk.add(file, obj, "custom_aggregator", problem)


def validate_catalog(folder: str | Path) -> Catalog:
    """Read and check every document of the catalog; raise CatalogError listing all problems."""
    folder = Path(folder)
    issues: list[CatalogIssue] = []
    docs, version, warnings = _read_documents(folder, issues)
    parsed = {stem: _parse(stem, docs.get(stem, []), issues, warnings,
                           indexed=stem in ("applied_coupons", "one_off_invoices", "wallets",
                                            "credit_notes"))
              for stem in DOCUMENTS}
    chk = _Checker(issues)

    orgs = parsed["organization"]
    if len(orgs) > 1:
        chk.add("organization.yaml", "organization", "", "expected one organization")
    org = orgs[0] if orgs else Organization()
    taxes = chk.unique("taxes.yaml", "tax", parsed["taxes"], "code")
    metrics = chk.unique("billable_metrics.yaml", "billable metric", parsed["billable_metrics"],
                         "code")
    families = _plan_families(chk, parsed["plans"])
    plans = {code: family.versions[0] for code, family in families.items()}  # for lookups
    parents = {plan.code: code for code, family in families.items()
               for plan in family.versions if plan.code != code}
    derived: dict[str, Plan] = {}          # plans overridden by a subscription, by code
    resolved: dict[str, Subscription] = {}
    customers = chk.unique("customers.yaml", "customer", parsed["customers"], "external_id")
    subscriptions = chk.unique("subscriptions.yaml", "subscription", parsed["subscriptions"],
                               "external_id")

    chk.timezone("organization.yaml", "organization", "timezone", org.timezone)
    chk.currency("organization.yaml", "organization", "default_currency", org.default_currency)
    chk.codes("organization.yaml", "organization", "tax_codes", org.tax_codes, taxes, "tax")

    for metric in metrics.values():
        _check_metric(chk, metric)

    for family in families.values():
        for plan in family.versions:
            _check_plan(chk, plan, family.label(plan), metrics, taxes)

    for customer in customers.values():
        obj = f'customer "{customer.external_id}"'
        chk.currency("customers.yaml", obj, "currency", customer.currency)
        chk.timezone("customers.yaml", obj, "timezone", customer.timezone)
        chk.codes("customers.yaml", obj, "tax_codes", customer.tax_codes, taxes, "tax")

    currency_of: dict[str, tuple[str, str]] = {
        c.external_id: (c.currency, "its currency") for c in customers.values() if c.currency}
    for sub in sorted(subscriptions.values(), key=lambda s: (s.started_at or s.subscription_at
                                                             or dt.datetime.max.replace(
                                                                 tzinfo=dt.timezone.utc))):
        obj = f'subscription "{sub.external_id}"'
        file = "subscriptions.yaml"
        if sub.external_customer_id not in customers:
            chk.add(file, obj, "external_customer_id",
                    _unknown("customer", sub.external_customer_id, customers))
        plan = plans.get(sub.plan_code)
        if plan is None:
            chk.add(file, obj, "plan_code", _unknown("plan", sub.plan_code, plans))
        if sub.started_at is None and sub.subscription_at is None:
            chk.add(file, obj, "started_at", "is required (or subscription_at)")
        start = sub.started_at or sub.subscription_at
        if start and sub.terminated_at and sub.terminated_at < start:
            chk.add(file, obj, "terminated_at",
                    f"is before the subscription starts ({start.isoformat()})")
        plan_codes = [(sub.plan_code, "plan_code")] + [
            (pc.plan_code, f"plan_changes[{i}].plan_code") for i, pc in enumerate(sub.plan_changes)]
        for i, change in enumerate(sub.plan_changes):
            if change.plan_code not in plans:
                chk.add(file, obj, f"plan_changes[{i}].plan_code",
                        _unknown("plan", change.plan_code, plans))
            if start and change.requested_at < start:
                chk.add(file, obj, f"plan_changes[{i}].requested_at",
                        f"is before the subscription starts ({start.isoformat()})")
        for code, fld in plan_codes:
            target = plans.get(code)
            if target is None:
                continue
            known = currency_of.get(sub.external_customer_id)
            if known is None:
                currency_of[sub.external_customer_id] = (target.amount_currency,
                                                         f'subscription "{sub.external_id}"')
            elif known[0] != target.amount_currency:
                chk.add(file, obj, fld,
                        f"plan {code!r} is billed in {target.amount_currency}, but customer "
                        f"{sub.external_customer_id!r} is billed in {known[0]} ({known[1]}); a "
                        f"customer has one currency")
        resolved[sub.external_id] = _resolve_subscription(chk, sub, families, metrics, taxes,
                                                          derived, parents)

    coupons = chk.unique("coupons.yaml", "coupon", parsed["coupons"], "code")
    for coupon in coupons.values():
        _check_coupon(chk, coupon, families, metrics)
    applied = _check_applied_coupons(chk, parsed["applied_coupons"], docs.get(
        "applied_coupons", []), coupons, customers, currency_of)
    add_ons = chk.unique("add_ons.yaml", "add-on", parsed["add_ons"], "code")
    for add_on in add_ons.values():
        obj = f'add-on "{add_on.code}"'
        chk.currency("add_ons.yaml", obj, "amount_currency", add_on.amount_currency)
        chk.codes("add_ons.yaml", obj, "tax_codes", add_on.tax_codes, taxes, "tax")
    one_offs = _check_one_off_invoices(chk, parsed["one_off_invoices"], docs.get(
        "one_off_invoices", []), add_ons, customers, currency_of, taxes)
    wallets = _check_wallets(chk, parsed["wallets"], docs.get("wallets", []), customers,
                             currency_of, metrics)
    requests = _check_credit_note_requests(chk, parsed["credit_notes"], docs.get(
        "credit_notes", []), customers, subscriptions, metrics)

    if issues:
        raise CatalogError(issues, str(folder))
    concrete = [plan for family in families.values() for plan in family.versions]
    return Catalog(
        folder=folder, organization=org, taxes=list(taxes.values()),
        billable_metrics=list(metrics.values()), plans=concrete + list(derived.values()),
        customers=list(customers.values()),
        subscriptions=[resolved[s.external_id] for s in subscriptions.values()],
        version=version, warnings=warnings, raw=docs, plan_parents=parents,
        coupons=list(coupons.values()), applied_coupons=applied,
        add_ons=list(add_ons.values()), one_off_invoices=one_offs, wallets=wallets,
        credit_note_requests=requests,
    )


def _resolve_subscription(chk: _Checker, sub: Subscription, families: dict[str, PlanFamily],
                          metrics: dict, taxes: dict, derived: dict[str, Plan],
                          parents: dict[str, str]) -> Subscription:
    """Point a subscription at concrete plan rows: the version in force when it subscribed
    (or, following plan updates, each new version at its effective_from), with its
    plan_overrides applied to that initial plan as a plan row of its own."""
    file, obj = "subscriptions.yaml", f'subscription "{sub.external_id}"'
    family = families.get(sub.plan_code)
    start = sub.started_at or sub.subscription_at
    anchor = sub.subscription_at or sub.started_at
    if family is None or start is None:
        return sub  # already reported
    if sub.follow_plan_updates:
        anchor = max(anchor, start)
    plan = family.in_force(anchor)
    if plan is None:
        chk.add(file, obj, "plan_code", family.not_in_force(anchor))
        return sub
    code = plan.code

    if has_overrides(sub.plan_overrides):
        if sub.follow_plan_updates:
            chk.add(file, obj, "follow_plan_updates",
                    "cannot be combined with plan_overrides: overridden prices do not follow "
                    "the plan's new versions (keep one of the two)")
        code = f"{plan.code}@{sub.external_id}"
        if code in families or code in parents or code in derived:
            chk.add(file, obj, "plan_overrides",
                    f"the overridden plan's code {code!r} is already a plan's code")
        overridden = apply_overrides(plan, sub.plan_overrides, code)
        for fld, message in overridden.problems:
            chk.add(file, obj, fld, message)
        # the plan rules, on the overridden plan; problems of fields the subscription did not
        # override are the plan's own, reported on plans.yaml
        found: list[CatalogIssue] = []
        _check_plan(_Checker(found, chk.currencies), overridden.plan, "", metrics, taxes)
        for issue in found:
            fld = overridden.field_in_overrides(issue.field)
            if fld is not None:
                chk.add(file, obj, fld, issue.message)
        derived[code] = overridden.plan
        parents[code] = family.code

    changes = list(sub.plan_changes)  # positions are kept: index = position
    stretches = [(anchor, family)]
    in_time_order = sorted(enumerate(sub.plan_changes), key=lambda c: (c[1].requested_at, c[0]))
    for i, change in in_time_order:
        target = families.get(change.plan_code)
        if target is None:
            continue  # already reported
        version = target.in_force(change.requested_at)
        if version is None:
            chk.add(file, obj, f"plan_changes[{i}].plan_code",
                    target.not_in_force(change.requested_at))
            continue
        changes[i] = change.model_copy(update={"plan_code": version.code})
        stretches.append((change.requested_at, target))
    if sub.follow_plan_updates:
        changes += followed_versions(sub, anchor, stretches)
    return sub.model_copy(update={"plan_code": code, "plan_changes": changes})


# --- coupons ------------------------------------------------------------------------------------


def _applied_label(item: Any, index: int) -> str:
    """`applied coupon #2 (customer "cus_a", coupon "welcome")`: the entry has no code."""
    label = f"applied coupon #{index + 1}"
    if isinstance(item, dict):
        names = [f'{noun} "{item[key]}"' for key, noun in
                 (("external_customer_id", "customer"), ("coupon_code", "coupon"))
                 if item.get(key) not in (None, "")]
        if names:
            label += f" ({', '.join(names)})"
    return label


def _check_coupon_terms(chk: _Checker, file: str, obj: str, rate: Decimal | None,
                        frequency: str, duration: int | None) -> None:
    """The terms a coupon or its application leaves in force: a rate of at most 100 percent,
    and a number of invoices for a recurring coupon."""
    if rate is not None and rate > 100:
        chk.add(file, obj, "percentage_rate", f"must be at most 100 (percent), got {rate}")
    if frequency == "recurring" and not duration:
        chk.add(file, obj, "frequency_duration",
                "is required for a recurring coupon: the number of invoices it applies to "
                "(at least 1)")


def _check_coupon(chk: _Checker, coupon: Coupon, families: dict, metrics: dict) -> None:
    """A coupon's own rules (Lago's coupon validations): what each type and frequency needs,
    and the codes its applies_to names."""
    file, obj = "coupons.yaml", f'coupon "{coupon.code}"'
    if coupon.coupon_type == "fixed_amount":
        if coupon.amount_cents is None:
            chk.add(file, obj, "amount_cents", "is required for a fixed_amount coupon")
        if coupon.amount_currency is None:
            chk.add(file, obj, "amount_currency", "is required for a fixed_amount coupon")
        chk.currency(file, obj, "amount_currency", coupon.amount_currency)
    else:
        if coupon.percentage_rate is None:
            chk.add(file, obj, "percentage_rate", "is required for a percentage coupon")
    rate = None if coupon.coupon_type == "fixed_amount" else coupon.percentage_rate
    _check_coupon_terms(chk, file, obj, rate, coupon.frequency, coupon.frequency_duration)
    if coupon.expiration == "time_limit" and coupon.expiration_at is None:
        chk.add(file, obj, "expiration_at", "is required when expiration is time_limit")
    scope = coupon.applies_to
    if scope is not None:
        chk.codes(file, obj, "applies_to.plan_codes", scope.plan_codes, families, "plan")
        chk.codes(file, obj, "applies_to.billable_metric_codes", scope.billable_metric_codes,
                  metrics, "billable metric")
        if scope.plan_codes and scope.billable_metric_codes:
            chk.add(file, obj, "applies_to",
                    "limit a coupon to plans or to billable metrics, not both (Lago allows "
                    "one limitation type)")


def _check_applied_coupons(chk: _Checker, parsed: list[tuple[int, AppliedCoupon]], raw: list,
                           coupons: dict[str, Coupon], customers: dict,
                           currency_of: dict[str, tuple[str, str]],
                           ) -> list[ResolvedAppliedCoupon]:
    """Each application names a known customer and coupon; its overrides must fit the coupon's
    type; a non-reusable coupon is applied once per customer; a coupon past its expiration_at
    can no longer be applied; a fixed_amount coupon is in the customer's currency (Lago's
    apply_coupon refuses each of these)."""
    file = "applied_coupons.yaml"
    resolved: list[ResolvedAppliedCoupon] = []
    applied_count: dict[tuple[str, str], int] = {}
    for position, applied in parsed:
        obj = _applied_label(raw[position], position)
        customer_ok = applied.external_customer_id in customers
        if not customer_ok:
            chk.add(file, obj, "external_customer_id",
                    _unknown("customer", applied.external_customer_id, customers))
        coupon = coupons.get(applied.coupon_code)
        if coupon is None:
            chk.add(file, obj, "coupon_code", _unknown("coupon", applied.coupon_code, coupons))
            continue
        fixed = coupon.coupon_type == "fixed_amount"
        if fixed and applied.percentage_rate is not None:
            chk.add(file, obj, "percentage_rate",
                    f"coupon {coupon.code!r} is fixed_amount: override amount_cents instead")
        if not fixed and (applied.amount_cents is not None or applied.amount_currency is not None):
            chk.add(file, obj, "amount_cents" if applied.amount_cents is not None
                    else "amount_currency",
                    f"coupon {coupon.code!r} is a percentage coupon: override percentage_rate "
                    f"instead")
        rate = applied.percentage_rate if applied.percentage_rate is not None \
            else coupon.percentage_rate
        currency = (applied.amount_currency or coupon.amount_currency) if fixed else None
        chk.currency(file, obj, "amount_currency", applied.amount_currency)
        known = currency_of.get(applied.external_customer_id)
        if fixed and currency and known and known[0] != currency:
            chk.add(file, obj, "amount_currency" if applied.amount_currency else "coupon_code",
                    f"the coupon is in {currency}, but customer "
                    f"{applied.external_customer_id!r} is billed in {known[0]}; a fixed_amount "
                    f"coupon must be in the customer's currency")
        frequency = applied.frequency or coupon.frequency
        duration = applied.frequency_duration if applied.frequency_duration is not None \
            else coupon.frequency_duration
        _check_coupon_terms(chk, file, obj, None if fixed else rate, frequency, duration)
        if (coupon.expiration == "time_limit" and coupon.expiration_at is not None
                and applied.created_at > coupon.expiration_at):
            chk.add(file, obj, "created_at",
                    f"coupon {coupon.code!r} expired at {instant_text(coupon.expiration_at)}, "
                    f"before it was applied ({instant_text(applied.created_at)}); an expired "
                    f"coupon cannot be applied")
        pair = (applied.external_customer_id, coupon.code)
        applied_count[pair] = applied_count.get(pair, 0) + 1
        if applied_count[pair] > 1 and not coupon.reusable:
            chk.add(file, obj, "coupon_code",
                    f"coupon {coupon.code!r} is not reusable: it is applied to customer "
                    f"{applied.external_customer_id!r} more than once")
        count = applied_count[pair]
        resolved.append(ResolvedAppliedCoupon(
            applied_coupon_id=f"{pair[0]}/{pair[1]}" + (f"#{count}" if count > 1 else ""),
            position=position, external_customer_id=applied.external_customer_id,
            coupon_code=coupon.code, created_at=applied.created_at,
            coupon_type=coupon.coupon_type,
            amount_cents=(applied.amount_cents if applied.amount_cents is not None
                          else coupon.amount_cents) if fixed else None,
            amount_currency=currency, percentage_rate=None if fixed else rate,
            frequency=frequency, frequency_duration=duration if frequency == "recurring" else None,
        ))
    return resolved


# --- add-ons and one-off invoices ---------------------------------------------------------------


def _one_off_label(item: Any, index: int) -> str:
    """`one-off invoice #2 (customer "cus_a")`: the entry has no code."""
    label = f"one-off invoice #{index + 1}"
    if isinstance(item, dict) and item.get("external_customer_id") not in (None, ""):
        customer = item["external_customer_id"]
        label += f' (customer "{customer}")'
    return label


def _check_one_off_invoices(chk: _Checker, parsed: list[tuple[int, OneOffInvoice]], raw: list,
                            add_ons: dict[str, AddOn], customers: dict,
                            currency_of: dict[str, tuple[str, str]], taxes: dict,
                            ) -> list[ResolvedOneOffInvoice]:
    """Each one-off invoice names a known customer, is in the customer's currency, and lists
    at least one fee of a known add-on (Lago's CreateOneOffService refuses an unknown customer
    or add-on and an empty fee list; a customer has one currency)."""
    file = "one_off_invoices.yaml"
    resolved: list[ResolvedOneOffInvoice] = []
    seen: dict[str, int] = {}
    for position, invoice in parsed:
        obj = _one_off_label(raw[position], position)
        if invoice.external_customer_id not in customers:
            chk.add(file, obj, "external_customer_id",
                    _unknown("customer", invoice.external_customer_id, customers))
        chk.currency(file, obj, "currency", invoice.currency)
        known = currency_of.get(invoice.external_customer_id)
        currency = invoice.currency or (known[0] if known else None)
        if currency is None:
            chk.add(file, obj, "currency",
                    f"is required: customer {invoice.external_customer_id!r} has no currency "
                    f"(neither its own nor a subscription's)")
        elif known and known[0] != currency:
            chk.add(file, obj, "currency",
                    f"the invoice is in {currency}, but customer "
                    f"{invoice.external_customer_id!r} is billed in {known[0]} ({known[1]}); a "
                    f"customer has one currency")
        if not invoice.fees:
            chk.add(file, obj, "fees", "needs at least one fee")
        fees = []
        for i, fee in enumerate(invoice.fees):
            here = f"fees[{i}]"
            add_on = add_ons.get(fee.add_on_code)
            if add_on is None:
                chk.add(file, obj, f"{here}.add_on_code", _unknown("add-on", fee.add_on_code,
                                                                   add_ons))
                continue
            chk.codes(file, obj, f"{here}.tax_codes", fee.tax_codes, taxes, "tax")
            if (fee.unit_amount_cents is None and currency
                    and add_on.amount_currency != currency):
                chk.add(file, obj, f"{here}.unit_amount_cents",
                        f"is required: add-on {add_on.code!r} is priced in "
                        f"{add_on.amount_currency}, the invoice is in {currency}")
            fees.append(ResolvedOneOffFee(
                position=i, add_on_code=add_on.code, units=fee.units,
                unit_amount_cents=(fee.unit_amount_cents if fee.unit_amount_cents is not None
                                   else add_on.amount_cents),
                display_name=(fee.invoice_display_name or add_on.invoice_display_name
                              or add_on.name or add_on.code),
                tax_codes=fee.tax_codes or None))
        base = f"{invoice.external_customer_id}/{instant_text(invoice.at)}"
        seen[base] = seen.get(base, 0) + 1
        resolved.append(ResolvedOneOffInvoice(
            one_off_invoice_id=base + (f"#{seen[base]}" if seen[base] > 1 else ""),
            position=position, external_customer_id=invoice.external_customer_id,
            currency=currency or "", issued_at=invoice.at, fees=tuple(fees)))
    return resolved


# --- wallets ------------------------------------------------------------------------------------


def _wallet_label(item: Any, index: int) -> str:
    """`wallet "main" (customer "cus_a")`: a wallet's code is unique per customer only."""
    if isinstance(item, dict) and item.get("code") not in (None, ""):
        label = f'wallet "{item["code"]}"'
        if item.get("external_customer_id") not in (None, ""):
            label += f' (customer "{item["external_customer_id"]}")'
        return label
    return f"wallet #{index + 1}"


def _credits_scale(chk: _Checker, file: str, obj: str, fld: str, credits: Decimal | None) -> None:
    """Lago keeps credits to 5 decimals (it floors the rest away); refused rather than lost."""
    if credits is not None and credits != credits.quantize(Decimal("1e-5")):
        chk.add(file, obj, fld, f"credits are kept to 5 decimals (got {credits})")


def _check_wallets(chk: _Checker, parsed: list[tuple[int, Wallet]], raw: list, customers: dict,
                   currency_of: dict[str, tuple[str, str]], metrics: dict,
                   ) -> list[tuple[int, Wallet]]:
    """A wallet's own rules (Lago's Wallets::ValidateService, WalletTransactions::
    ValidateService): a known customer, the customer's currency, a positive rate, credits of
    at most 5 decimals, an expiration after its creation, top-ups and voids while the wallet
    is active, never voiding more credits than were added before the void, limits to known
    fee types and metrics. Automatic top-ups (recurring_transaction_rules) are not built."""
    file = "wallets.yaml"
    seen: set[tuple[str, str]] = set()
    for position, wallet in parsed:
        obj = _wallet_label(raw[position], position)
        if wallet.external_customer_id not in customers:
            chk.add(file, obj, "external_customer_id",
                    _unknown("customer", wallet.external_customer_id, customers))
        pair = (wallet.external_customer_id, wallet.code)
        if pair in seen:
            chk.add(file, obj, "code", f"{wallet.code!r} is defined twice for customer "
                                       f"{wallet.external_customer_id!r} (a wallet's code is "
                                       f"unique per customer)")
        seen.add(pair)
        chk.currency(file, obj, "currency", wallet.currency)
        known = currency_of.get(wallet.external_customer_id)
        if known and wallet.currency in chk.currencies and known[0] != wallet.currency:
            chk.add(file, obj, "currency",
                    f"the wallet is in {wallet.currency}, but customer "
                    f"{wallet.external_customer_id!r} is billed in {known[0]} ({known[1]}); a "
                    f"wallet pays invoices of its own currency only")
        if wallet.rate_amount <= 0:
            chk.add(file, obj, "rate_amount",
                    f"must be greater than 0: the value of one credit in {wallet.currency} "
                    f"(got {wallet.rate_amount})")
        if not 1 <= wallet.priority <= 50:
            chk.add(file, obj, "priority", f"must be between 1 and 50 (got {wallet.priority})")
        if wallet.recurring_transaction_rules:
            chk.add(file, obj, "recurring_transaction_rules",
                    "automatic top-ups are not supported yet; write each top-up in "
                    "transactions [{at, paid_credits, granted_credits}]")
        if wallet.expiration_at is not None and wallet.expiration_at <= wallet.created_at:
            chk.add(file, obj, "expiration_at",
                    f"must be after the wallet is created ({instant_text(wallet.created_at)})")
        _credits_scale(chk, file, obj, "paid_credits", wallet.paid_credits)
        _credits_scale(chk, file, obj, "granted_credits", wallet.granted_credits)
        scope = wallet.applies_to
        if scope is not None:
            for i, fee_type in enumerate(scope.fee_types or []):
                if fee_type not in WALLET_FEE_TYPES:
                    chk.add(file, obj, f"applies_to.fee_types[{i}]",
                            f"unknown fee type {fee_type!r} (expected one of "
                            f"{', '.join(WALLET_FEE_TYPES)})")
            chk.codes(file, obj, "applies_to.billable_metric_codes",
                      scope.billable_metric_codes, metrics, "billable metric")
        credited = (wallet.paid_credits or 0) + (wallet.granted_credits or 0)
        for i, top_up in sorted(enumerate(wallet.transactions), key=lambda t: (t[1].at, t[0])):
            here = f"transactions[{i}]"
            if top_up.at < wallet.created_at:
                chk.add(file, obj, f"{here}.at",
                        f"is before the wallet is created ({instant_text(wallet.created_at)})")
            if wallet.expiration_at is not None and top_up.at >= wallet.expiration_at:
                chk.add(file, obj, f"{here}.at",
                        f"the wallet expired at {instant_text(wallet.expiration_at)}: a "
                        f"terminated wallet takes no transaction")
            amounts = (top_up.paid_credits, top_up.granted_credits, top_up.voided_credits)
            if not any(amounts):
                chk.add(file, obj, here,
                        "needs paid_credits, granted_credits or voided_credits (greater than 0)")
            for name, credits in zip(("paid_credits", "granted_credits", "voided_credits"),
                                     amounts):
                _credits_scale(chk, file, obj, f"{here}.{name}", credits)
            credited += (top_up.paid_credits or 0) + (top_up.granted_credits or 0)
            if top_up.voided_credits and top_up.voided_credits > credited:
                chk.add(file, obj, f"{here}.voided_credits",
                        f"voids {top_up.voided_credits} credits, more than the "
                        f"{credited} credited to the wallet by then")
            credited -= top_up.voided_credits or 0
    return parsed


# --- credit notes -------------------------------------------------------------------------------


def _credit_note_label(item: Any, index: int) -> str:
    """`credit note request #2 (invoice "ACM-001-002")` or `(customer "acme", invoice of
    2026-11-01)`: a request has no code of its own."""
    label = f"credit note request #{index + 1}"
    if isinstance(item, dict):
        if item.get("invoice_number") not in (None, ""):
            label += ' (invoice "{}")'.format(item["invoice_number"])
        elif item.get("external_customer_id") not in (None, ""):
            label += ' (customer "{}"'.format(item["external_customer_id"])
            if item.get("invoice_issuing_date") not in (None, ""):
                label += ", invoice of {}".format(item["invoice_issuing_date"])
            label += ")"
    return label


def _check_credit_note_requests(chk: _Checker, parsed: list, raw: list, customers: dict,
                                subscriptions: dict, metrics: dict
                                ) -> list[ResolvedCreditNoteRequest]:
    """What a request must say before any invoice is looked at (Lago's CreditNotes::
    CreateService and its validators): the invoice, named one way; items naming fees the
    customer's subscriptions can have; a positive total. What needs the invoice (the fee is on
    it, the amounts fit what is left to credit or refund) is checked by the close
    (int_credit_note_checks), which refuses the run naming the same file, request and field."""
    file = "credit_notes.yaml"
    resolved, seen = [], {}
    for position, request in parsed:
        obj = _credit_note_label(raw[position], position)
        by_number = request.invoice_number is not None
        by_date = request.external_customer_id is not None or request.invoice_issuing_date is not None
        if by_number and by_date:
            chk.add(file, obj, "invoice_number",
                    "name the invoice either by invoice_number or by external_customer_id and "
                    "invoice_issuing_date, not both")
        elif not by_number:
            for name in ("external_customer_id", "invoice_issuing_date"):
                if getattr(request, name) is None:
                    chk.add(file, obj, name, "is required when invoice_number is not given (the "
                                             "invoice is the customer's invoice issued that day)")
        customer = request.external_customer_id
        if customer is not None and customer not in customers:
            chk.add(file, obj, "external_customer_id", _unknown("customer", customer, customers))
        if not request.items:
            chk.add(file, obj, "items", "is empty: a credit note credits at least one fee")
        for i, item in enumerate(request.items):
            where, fee = f"items[{i}].fee", item.fee
            sub = subscriptions.get(fee.external_subscription_id)
            if sub is None:
                chk.add(file, obj, f"{where}.external_subscription_id",
                        _unknown("subscription", fee.external_subscription_id, subscriptions))
            elif customer is not None and sub.external_customer_id != customer:
                chk.add(file, obj, f"{where}.external_subscription_id",
                        f"subscription {sub.external_id!r} belongs to customer "
                        f"{sub.external_customer_id!r}, not to {customer!r}")
            if fee.fee_type == "charge":
                if fee.billable_metric_code is None:
                    chk.add(file, obj, f"{where}.billable_metric_code",
                            "is required for a charge fee")
                elif fee.billable_metric_code not in metrics:
                    chk.add(file, obj, f"{where}.billable_metric_code",
                            _unknown("billable metric", fee.billable_metric_code, metrics))
            elif fee.billable_metric_code is not None:
                chk.add(file, obj, f"{where}.billable_metric_code",
                        "must be left out for a subscription fee")
        if request.credit_amount_cents + request.refund_amount_cents <= 0:
            chk.add(file, obj, "credit_amount_cents",
                    "credit_amount_cents + refund_amount_cents must be positive (Lago refuses "
                    "a credit note of 0)")
        ref = (request.invoice_number if by_number else
               f"{customer}/{request.invoice_issuing_date}")
        request_id = f"{ref}@{instant_text(request.at)}"
        if request_id in seen:
            chk.add(file, obj, "at",
                    f"{seen[request_id]} already requests a credit note on this invoice at "
                    f"{instant_text(request.at)}; one request per invoice and instant")
        seen[request_id] = obj
        resolved.append(ResolvedCreditNoteRequest(request_id=request_id, position=position,
                                                  label=obj, request=request))
    return resolved
