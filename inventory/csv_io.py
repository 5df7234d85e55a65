"""CSV export and import of the catalogue and of stock levels.

Export streams rows straight from the database. Import is two steps: ``plan_import``
parses and validates every row against the database and says what would happen (create,
update or unchanged per row, and each error with its CSV line and column);
``apply_import`` parses the same file again, since the database may have moved on since
the preview, and writes in one transaction: every row or nothing by default, or the valid
rows only. Stock on hand is set through ``inventory.stock.count`` (a cycle count noted
"CSV import") so the ledger stays complete; safety stock through
``inventory.stock.set_safety_stock``.

Between the two steps the uploaded bytes wait in ``VAR_DIR/imports/<token>.csv``; the
token is random and only the uploader's session knows it.
"""

import csv
import io
import re
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from oms_site.actors import Actor
from oms_site.errors import DomainError, ValidationFailed
from oms_site.money import DECIMAL_PLACES, MAX_DIGITS, is_currency, quantize

from . import stock
from .access import check_warehouse_access
from .models import SKU, Bin, Product, StockLevel, Supplier, Warehouse, validate_gtin
from .selectors import stock_levels

CATALOGUE = "catalogue"
STOCK = "stock"

CATALOGUE_COLUMNS = [
    "sku",
    "product",
    "name",
    "barcode",
    "price",
    "currency",
    "weight_grams",
    "length_mm",
    "width_mm",
    "height_mm",
    "active",
    "supplier",
    "lead_time_days",
]
CATALOGUE_REQUIRED = ("sku", "product", "name")
# "allocated" is exported for reading; an import ignores it (only orders allocate).
STOCK_COLUMNS = ["sku", "warehouse", "on_hand", "allocated", "safety_stock", "bin"]
STOCK_REQUIRED = ("sku", "warehouse", "on_hand")

MAX_ROWS = 20_000
MAX_BYTES = 10 * 1024 * 1024
IMPORT_NOTE = "CSV import"
UPLOAD_MAX_AGE_SECONDS = 24 * 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
# Spreadsheets run cells that start with these as formulas; exports prefix them with "'".
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_TRUE = {"true", "yes", "y", "1", "x"}
_FALSE = {"false", "no", "n", "0", ""}
_INT_COLUMNS = ("weight_grams", "length_mm", "width_mm", "height_mm")
_CHUNK = 500
PROGRESS_EVERY = 1000


# --- Results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    line: int  # the CSV line (the header is line 1); 0 for the file as a whole
    column: str
    message: str


@dataclass
class PlannedRow:
    line: int
    action: str  # "create" | "update" | "unchanged"
    values: dict
    instance: object = None  # the existing SKU or StockLevel, for updates


@dataclass
class ImportPlan:
    kind: str
    rows: list = field(default_factory=list)  # the valid rows
    errors: list = field(default_factory=list)
    fatal: bool = False  # the file as a whole is unusable: nothing can be imported

    @property
    def error_lines(self) -> set:
        return {error.line for error in self.errors if error.line > 1}

    def counts(self) -> dict:
        counts = {"create": 0, "update": 0, "unchanged": 0}
        for row in self.rows:
            counts[row.action] += 1
        counts["invalid"] = len(self.error_lines)
        return counts


@dataclass
class ImportResult:
    kind: str
    applied: bool
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list = field(default_factory=list)

    @property
    def skipped_lines(self) -> list:
        return sorted({error.line for error in self.errors if error.line > 1})


# --- Export -------------------------------------------------------------------------------


class _Echo:
    """A file-like object whose write() hands the CSV line back instead of storing it."""

    def write(self, value):
        return value


def _stream(header, rows, batch=500):
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    lines = []
    for row in rows:
        lines.append(writer.writerow(row))
        if len(lines) >= batch:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)


def _cell(text) -> str:
    """Text for a spreadsheet cell: never read as a formula (the import strips the "'")."""
    text = "" if text is None else str(text)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _price(amount: Decimal, currency: str) -> str:
    """The amount with its currency's minor digits (19.90 EUR, 1000 JPY), or more if set."""
    rounded = quantize(amount, currency)
    return str(rounded if rounded == amount else amount.normalize())


def export_catalogue():
    """CSV lines (str) of every SKU, one per row, ordered by SKU code."""
    skus = SKU.objects.select_related("product", "supplier").order_by("code")
    rows = (
        [
            _cell(sku.code),
            _cell(sku.product.name),
            _cell(sku.name),
            sku.barcode,
            _price(sku.price, sku.currency),
            sku.currency,
            sku.weight_grams,
            sku.length_mm,
            sku.width_mm,
            sku.height_mm,
            "true" if sku.active else "false",
            _cell(sku.supplier.code) if sku.supplier_id else "",
            "" if sku.lead_time_days is None else sku.lead_time_days,
        ]
        for sku in skus.iterator(chunk_size=2000)
    )
    return _stream(CATALOGUE_COLUMNS, rows)


def export_stock(*, user):
    """CSV lines (str) of the stock levels the user may see, by SKU code and warehouse."""
    levels = stock_levels(user=user).order_by("sku__code", "warehouse__code")
    rows = (
        [
            _cell(level.sku.code),
            _cell(level.warehouse.code),
            level.on_hand,
            level.allocated,
            level.safety_stock,
            _cell(level.bin.code) if level.bin_id else "",
        ]
        for level in levels.iterator(chunk_size=2000)
    )
    return _stream(STOCK_COLUMNS, rows)


# --- Keeping the upload between preview and import -----------------------------------------


def _imports_dir() -> Path:
    directory = Path(settings.VAR_DIR) / "imports"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def store_upload(content: bytes) -> str:
    """Keep an uploaded file for the second step; returns its token."""
    directory = _imports_dir()
    cutoff = time.time() - UPLOAD_MAX_AGE_SECONDS
    for old in directory.glob("*.csv"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink(missing_ok=True)
        except OSError:
            continue  # another process removed it first
    token = secrets.token_urlsafe(24)
    (directory / f"{token}.csv").write_bytes(content)
    return token


def load_upload(token: str) -> bytes | None:
    if not isinstance(token, str) or not _TOKEN.match(token):
        return None
    try:
        return (_imports_dir() / f"{token}.csv").read_bytes()
    except FileNotFoundError:
        return None


def discard_upload(token: str) -> None:
    if isinstance(token, str) and _TOKEN.match(token):
        (_imports_dir() / f"{token}.csv").unlink(missing_ok=True)


# --- Parsing ------------------------------------------------------------------------------


class _FileError(Exception):
    def __init__(self, line, column, message):
        super().__init__(message)
        self.error = RowError(line, column, message)


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise _FileError(
            line,
            "",
            f"The file is not UTF-8 text (first bad byte on line {line}). "
            "Save it as 'CSV UTF-8' and upload it again.",
        )


def _delimiter(first_line: str) -> str:
    counts = {sep: first_line.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _read(text: str):
    """The header (lower-cased names) and the records as (line, {column: cell})."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text.split("\n")[0]))
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise _FileError(1, "", f"The header cannot be read: {error}.")
    if not header or not any(name.strip() for name in header):
        raise _FileError(1, "", "The file is empty: the first line must name the columns.")
    header = [name.strip().lower() for name in header]
    repeated = sorted({name for name in header if header.count(name) > 1 and name})
    if repeated:
        raise _FileError(1, repeated[0], f"Column '{repeated[0]}' appears more than once.")
    records = []
    last_line = reader.line_num
    try:
        for cells in reader:
            line, last_line = last_line + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(records) == MAX_ROWS:
                raise _FileError(
                    0,
                    "",
                    f"The file has more than {MAX_ROWS:,} rows: split it into smaller files.",
                )
            extra = [cell for cell in cells[len(header) :] if cell.strip()]
            row = {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(header)}
            records.append((line, row, len(cells) if extra else 0))
    except csv.Error as error:
        raise _FileError(reader.line_num, "", f"This line cannot be read: {error}.")
    return header, records


def _detect_kind(header) -> str | None:
    if "on_hand" in header or "warehouse" in header:
        return STOCK
    if "product" in header or "price" in header:
        return CATALOGUE
    return None


def _text(value) -> str:
    value = (value or "").strip()
    if len(value) > 1 and value[0] == "'" and value[1:].startswith(_FORMULA_START):
        return value[1:]
    return value


class _Cell(Exception):
    """A bad cell; the column is added by the caller."""


def _whole_number(raw: str, *, blank=None, minimum=0):
    raw = (raw or "").strip()
    if not raw:
        if blank is _REQUIRED:
            raise _Cell("Required.")
        return blank
    try:
        number = int(raw)
    except ValueError:
        raise _Cell(f"'{raw}' is not a whole number.")
    if number < minimum:
        raise _Cell(f"Must be {minimum} or more, not {number}.")
    if number > 2_147_483_647:
        raise _Cell(f"{number} is too large.")
    return number


_REQUIRED = object()


def _boolean(raw: str) -> bool:
    value = (raw or "").strip().lower()
    if not value:
        return True
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise _Cell(f"'{raw}' is not yes/no (use true or false).")


def _amount(raw: str) -> Decimal:
    raw = (raw or "").strip()
    if not raw:
        raise _Cell("Required (write 0 for no price).")
    if "," in raw:
        raise _Cell(f"'{raw}': use a dot as the decimal separator, without thousands separators.")
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise _Cell(f"'{raw}' is not a number.")
    if not amount.is_finite():
        raise _Cell(f"'{raw}' is not a number.")
    if amount < 0:
        raise _Cell("Must not be negative.")
    if amount.as_tuple().exponent < -DECIMAL_PLACES:
        raise _Cell(f"At most {DECIMAL_PLACES} decimal places.")
    if amount.adjusted() >= MAX_DIGITS - DECIMAL_PLACES:
        raise _Cell("Too large.")
    return amount


def _limited(raw: str, max_length: int, *, required=False) -> str:
    value = _text(raw)
    if required and not value:
        raise _Cell("Required.")
    if len(value) > max_length:
        raise _Cell(f"At most {max_length} characters (this one has {len(value)}).")
    return value


def _by_chunks(model_qs, field_name, keys):
    keys = list(keys)
    found = []
    for start in range(0, len(keys), _CHUNK):
        found.extend(model_qs.filter(**{f"{field_name}__in": keys[start : start + _CHUNK]}))
    return found


class _RowChecker:
    """Collects a row's values and its cell errors."""

    def __init__(self, line, errors):
        self.line, self.errors, self.ok = line, errors, True

    def __call__(self, column, parse, *args, **kwargs):
        try:
            return parse(*args, **kwargs)
        except _Cell as bad:
            self.fail(column, str(bad))
        except ValidationError as bad:
            self.fail(column, " ".join(bad.messages))
        return None

    def fail(self, column, message):
        self.ok = False
        self.errors.append(RowError(self.line, column, message))


def _mark_duplicates(seen: dict, errors: list, column: str, label: str) -> set:
    repeated = {key for key, lines in seen.items() if len(lines) > 1}
    for key in repeated:
        lines = seen[key]
        for line in lines:
            others = ", ".join(str(other) for other in lines if other != line)
            message = f"Duplicate {label} {key}: also on line {others}."
            errors.append(RowError(line, column, message))
    return repeated


def _plan_catalogue(header, records) -> ImportPlan:
    plan = ImportPlan(kind=CATALOGUE)
    errors = plan.errors
    codes = {_text(row.get("sku")) for _, row, _ in records}
    existing = {
        sku.code: sku
        for sku in _by_chunks(SKU.objects.select_related("product"), "code", codes - {""})
    }
    suppliers = {supplier.code: supplier for supplier in Supplier.objects.all()}
    candidates, seen = [], defaultdict(list)
    for line, row, cell_count in records:
        check = _RowChecker(line, errors)
        if cell_count:
            check.fail("", f"This row has {cell_count} cells but the header has {len(header)}.")
        code = check("sku", _limited, row["sku"], 64, required=True)
        if code:
            seen[f"'{code}'"].append(line)
        values = _catalogue_values(header, row, check, suppliers)
        if check.ok:
            candidates.append((line, code, values))
    repeated = _mark_duplicates(seen, errors, "sku", "SKU")
    for line, code, values in candidates:
        if f"'{code}'" in repeated:
            continue
        sku = existing.get(code)
        values["code"] = code
        if sku is None:
            action = "create"
        else:
            action = "update" if _catalogue_changes(sku, values) else "unchanged"
        plan.rows.append(PlannedRow(line, action, values, instance=sku))
    return plan


def _catalogue_values(header, row, check, suppliers) -> dict:
    """A catalogue row's values (every column but the SKU code), checked cell by cell."""
    values = {}
    values["product"] = check("product", _limited, row["product"], 200, required=True)
    values["name"] = check("name", _limited, row["name"], 200)
    if "barcode" in header:
        barcode = check("barcode", _limited, row["barcode"], 14)
        if barcode:
            check("barcode", validate_gtin, barcode)
        values["barcode"] = barcode
    if "price" in header:
        values["price"] = check("price", _amount, row["price"])
    if "currency" in header:
        currency = _text(row["currency"]).upper()
        if not currency:
            check.fail("currency", "Required.")
        elif not is_currency(currency):
            check.fail("currency", f"'{currency}' is not an ISO 4217 currency code.")
        values["currency"] = currency
    for column in _INT_COLUMNS:
        if column in header:
            values[column] = check(column, _whole_number, row[column], blank=0)
    if "active" in header:
        values["active"] = check("active", _boolean, row["active"])
    if "supplier" in header:
        supplier_code = _text(row["supplier"])
        values["supplier"] = suppliers.get(supplier_code) if supplier_code else None
        if supplier_code and values["supplier"] is None:
            check.fail("supplier", f"Unknown supplier '{supplier_code}'.")
    if "lead_time_days" in header:
        values["lead_time_days"] = check(
            "lead_time_days", _whole_number, row["lead_time_days"], blank=None
        )
    return values


def check_catalogue_cells(cells: dict, *, suppliers=None) -> tuple[str, dict]:
    """The CSV import's rules for one SKU given as text cells (column -> text): the SKU
    code and the values to store, or ``ValidationFailed`` naming each bad column. The API
    uses this, so an SKU made there obeys exactly what an import would."""
    errors = []
    check = _RowChecker(0, errors)
    header = [column for column in CATALOGUE_COLUMNS if column in cells]
    row = {column: cells.get(column) or "" for column in CATALOGUE_COLUMNS}
    if suppliers is None:
        code = _text(cells.get("supplier") or "")
        suppliers = {s.code: s for s in Supplier.objects.filter(code=code)} if code else {}
    code = check("sku", _limited, row["sku"], 64, required=True)
    values = _catalogue_values(header, row, check, suppliers)
    if errors:
        fields = {}
        for error in errors:
            fields.setdefault(error.column or "non_field_errors", []).append(error.message)
        raise ValidationFailed("The SKU is not valid.", fields=fields)
    return code, values


def _catalogue_changes(sku: SKU, values: dict) -> list[str]:
    changed = []
    for name, value in values.items():
        if name == "code":
            continue
        if name == "product":
            current = sku.product.name
        elif name == "supplier":
            current, value = sku.supplier_id, (value.pk if value else None)
        else:
            current = getattr(sku, name)
        if current != value:
            changed.append(name)
    return changed


def _plan_stock(header, records, *, user, progress=None) -> ImportPlan:
    plan = ImportPlan(kind=STOCK)
    errors = plan.errors
    codes = {_text(row.get("sku")) for _, row, _ in records} - {""}
    skus = {sku.code: sku for sku in _by_chunks(SKU.objects.all(), "code", codes)}
    warehouses = {}
    for warehouse in Warehouse.objects.all():
        warehouses[warehouse.code] = warehouse
        warehouses.setdefault(warehouse.code.lower(), warehouse)
    levels = {
        (level.sku_id, level.warehouse_id): level
        for level in _by_chunks(StockLevel.objects.all(), "sku_id", [s.pk for s in skus.values()])
    }
    bins = {}
    if "bin" in header:
        bins = {(b.warehouse_id, b.code): b for b in Bin.objects.all()}
    access = {}
    candidates, seen = [], defaultdict(list)
    for index, (line, row, cell_count) in enumerate(records):
        if progress is not None and index % PROGRESS_EVERY == 0:
            progress(index, len(records))
        check = _RowChecker(line, errors)
        if cell_count:
            check.fail("", f"This row has {cell_count} cells but the header has {len(header)}.")
        code = _text(row["sku"])
        sku = skus.get(code)
        if not code:
            check.fail("sku", "Required.")
        elif sku is None:
            check.fail("sku", f"Unknown SKU '{code}'.")
        warehouse_code = _text(row["warehouse"])
        warehouse = warehouses.get(warehouse_code) or warehouses.get(warehouse_code.lower())
        if not warehouse_code:
            check.fail("warehouse", "Required.")
        elif warehouse is None:
            check.fail("warehouse", f"Unknown warehouse '{warehouse_code}'.")
        else:
            if warehouse.pk not in access:
                try:
                    check_warehouse_access(user, warehouse)
                    access[warehouse.pk] = ""
                except DomainError as refused:
                    access[warehouse.pk] = refused.message
            if access[warehouse.pk]:
                check.fail("warehouse", access[warehouse.pk])
        on_hand = check("on_hand", _whole_number, row["on_hand"], blank=_REQUIRED)
        safety_stock = None
        if "safety_stock" in header:
            safety_stock = check("safety_stock", _whole_number, row["safety_stock"], blank=None)
        bin_ = None
        if "bin" in header and _text(row["bin"]) and warehouse is not None:
            bin_code = _text(row["bin"])
            bin_ = bins.get((warehouse.pk, bin_code))
            if bin_ is None:
                check.fail("bin", f"Unknown bin '{bin_code}' in warehouse {warehouse.code}.")
        level = None
        if sku is not None and warehouse is not None:
            seen[f"{sku.code} at {warehouse.code}"].append(line)
            level = levels.get((sku.pk, warehouse.pk))
            if level is not None and on_hand is not None and on_hand < level.allocated:
                check.fail(
                    "on_hand",
                    f"{on_hand} is below the {level.allocated} units allocated to orders.",
                )
        if check.ok:
            values = {
                "sku": sku,
                "warehouse": warehouse,
                "on_hand": on_hand,
                "safety_stock": safety_stock,
                "bin": bin_,
            }
            candidates.append((line, f"{sku.code} at {warehouse.code}", values, level))
    repeated = _mark_duplicates(seen, errors, "sku", "row for")
    for line, key, values, level in candidates:
        if key in repeated:
            continue
        if level is None:
            action = "create"
        elif _stock_changes(level, values):
            action = "update"
        else:
            action = "unchanged"
        plan.rows.append(PlannedRow(line, action, values, instance=level))
    return plan


def _stock_changes(level: StockLevel, values: dict) -> list[str]:
    changed = []
    if values["on_hand"] != level.on_hand:
        changed.append("on_hand")
    if values["safety_stock"] is not None and values["safety_stock"] != level.safety_stock:
        changed.append("safety_stock")
    if values["bin"] is not None and values["bin"].pk != level.bin_id:
        changed.append("bin")
    return changed


def plan_import(content: bytes, *, kind: str = "auto", user=None, progress=None) -> ImportPlan:
    """Parse and check every row; say what importing would do. Writes nothing.

    ``progress(rows_checked, rows_total)`` is called now and then (stock files)."""
    try:
        header, records = _read(_decode(content))
        if kind not in (CATALOGUE, STOCK):
            kind = _detect_kind(header)
            if kind is None:
                raise _FileError(
                    1, "", "Cannot tell a catalogue from a stock file: check the header."
                )
        known, required = (
            (CATALOGUE_COLUMNS, CATALOGUE_REQUIRED)
            if kind == CATALOGUE
            else (STOCK_COLUMNS, STOCK_REQUIRED)
        )
        problems = [
            RowError(1, name, f"Required column '{name}' is missing.")
            for name in required
            if name not in header
        ] + [
            RowError(1, name, f"Unknown column '{name}' (expected: {', '.join(known)}).")
            for name in header
            if name and name not in known
        ]
        if "" in header:
            problems.append(RowError(1, "", "A column has no name."))
        if problems:
            return ImportPlan(kind=kind, errors=problems, fatal=True)
    except _FileError as bad:
        return ImportPlan(kind=kind, errors=[bad.error], fatal=True)
    if kind == CATALOGUE:
        plan = _plan_catalogue(header, records)
    else:
        plan = _plan_stock(header, records, user=user, progress=progress)
    plan.errors.sort(key=lambda error: (error.line, error.column))
    return plan


# --- Applying -----------------------------------------------------------------------------


class _Rollback(Exception):
    """Raised inside the import transaction to undo it after collecting row errors."""


def apply_import(
    content: bytes, *, kind: str, user, valid_only: bool = False, progress=None
) -> ImportResult:
    """Check the file again and write it in one transaction.

    By default nothing is written unless every row is valid; with ``valid_only`` the valid
    rows are written and the bad ones are reported. The check runs before the transaction
    (it only reads); what it read that can change meanwhile (on-hand against allocated
    units, warehouse access) is checked again under the row locks while writing.
    ``progress(phase, rows_done, rows_total)`` follows the work ("checking", "writing").
    """
    actor = Actor.for_user(user)
    checking = (lambda done, total: progress("checking", done, total)) if progress else None
    plan = plan_import(content, kind=kind, user=user, progress=checking)
    result = ImportResult(kind=plan.kind, applied=False, errors=list(plan.errors))
    if plan.fatal or (plan.errors and not valid_only):
        return result
    if progress is not None:
        progress("writing", 0, len(plan.rows))
    try:
        with transaction.atomic():
            if plan.kind == CATALOGUE:
                _apply_catalogue(plan, result)
            else:
                _apply_stock(plan, result, actor=actor, user=user, valid_only=valid_only)
            if result.errors and not valid_only:
                raise _Rollback
            result.applied = True
    except _Rollback:
        result.created = result.updated = 0
        result.unchanged = 0
    except DatabaseError as error:
        message = f"The database refused the import, nothing was written: {error}"
        return ImportResult(kind=kind, applied=False, errors=[RowError(0, "", message)])
    result.errors.sort(key=lambda error: (error.line, error.column))
    return result


def _apply_catalogue(plan: ImportPlan, result: ImportResult) -> None:
    changing = [row for row in plan.rows if row.action != "unchanged"]
    result.unchanged = len(plan.rows) - len(changing)
    names = {row.values["product"] for row in changing}
    products = {}
    for product in sorted(_by_chunks(Product.objects.all(), "name", names), key=lambda p: p.pk):
        products.setdefault(product.name, product)
    missing = [Product(name=name) for name in sorted(names - products.keys())]
    Product.objects.bulk_create(missing, batch_size=_CHUNK)
    if any(product.pk is None for product in missing):
        for product in _by_chunks(Product.objects.order_by("-pk"), "name", names):
            products[product.name] = product
    else:
        products.update({product.name: product for product in missing})

    new, updated, fields = [], [], set()
    for row in changing:
        values = dict(row.values)
        values["product"] = products[values["product"]]
        if row.action == "create":
            new.append(SKU(**values))
        else:
            sku = row.instance
            for name, value in values.items():
                setattr(sku, name, value)
            fields.update(name for name in values if name != "code")
            updated.append(sku)
    SKU.objects.bulk_create(new, batch_size=_CHUNK)
    if updated:
        SKU.objects.bulk_update(updated, sorted(fields), batch_size=_CHUNK)
    result.created, result.updated = len(new), len(updated)


def _apply_stock(plan: ImportPlan, result: ImportResult, *, actor, user, valid_only) -> None:
    """Every row in one bulk count (``inventory.stock.count_many``): levels locked in pk
    order, one ledger write per batch, one stock.changed per SKU."""
    rows = []
    refused_warehouses = {}
    for row in plan.rows:
        warehouse = row.values["warehouse"]
        if warehouse.pk not in refused_warehouses:
            try:
                check_warehouse_access(user, warehouse)
                refused_warehouses[warehouse.pk] = ""
            except DomainError as refused:
                refused_warehouses[warehouse.pk] = refused.message
        if refused_warehouses[warehouse.pk]:
            result.errors.append(RowError(row.line, "warehouse", refused_warehouses[warehouse.pk]))
            continue
        rows.append(row)
    if result.errors and not valid_only:
        raise _Rollback
    counts = [
        stock.LevelCount(
            sku_id=row.values["sku"].pk,
            warehouse_id=row.values["warehouse"].pk,
            counted=row.values["on_hand"],
            safety_stock=row.values["safety_stock"],
            bin_id=row.values["bin"].pk if row.values["bin"] is not None else None,
            key=row.line,
        )
        for row in rows
    ]
    try:
        outcome = stock.count_many(counts, actor=actor, note=IMPORT_NOTE, skip_refused=valid_only)
    except stock.CountsRefused as refused:
        outcome = stock.CountOutcome(refused=refused.refused)
    for line, message in outcome.refused:
        result.errors.append(RowError(line, "on_hand", message))
    if outcome.refused and not valid_only:
        raise _Rollback
    result.created = len(outcome.created)
    result.updated = len(outcome.updated)
    result.unchanged = len(outcome.unchanged)
