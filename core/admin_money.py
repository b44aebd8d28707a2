"""Money in the back office, for every admin at once. Amounts are stored as integer minor units
in fields named `*_cents`; people read and type major units in their language ("COP 150.000,00"
shown, "150.000,00" or "150000" typed in Spanish). The admin site wraps each ModelAdmin (and its
inlines) with `MoneyAdminMixin` when it is registered, so no admin has to remember:

- list columns and read-only fields that name a money field show it with `money_display`;
- editable money fields use `core.money_forms.MoneyFormField`;
- decimals (rates, percentages) are shown and typed in the reader's number format.

The currency of a row is its own `currency`, else its brand's (the model's `BRAND_FIELD`),
annotated on the admin's queryset so a list of a hundred rows costs no extra query."""

from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, QuerySet
from django.forms import BaseForm
from django.http import HttpRequest
from django.utils.formats import number_format
from django.utils.text import capfirst

from core.money import CURRENCY_EXPONENT, currency_exponent, format_minor, to_major
from core.money_forms import MoneyFormField

MONEY_SUFFIX = "_cents"
CURRENCY_ANNOTATION = "money_row_currency"
DISPLAY_PREFIX = "money_"


def is_money_field(field: Any) -> bool:
    """A stored amount in minor units: an integer model field named `*_cents`."""
    return (
        isinstance(field, models.IntegerField)
        and not field.is_relation
        and bool(getattr(field, "name", ""))
        and field.name.endswith(MONEY_SUFFIX)
    )


def money_fields(model: type[models.Model]) -> dict[str, models.Field[Any, Any]]:
    return {f.name: f for f in model._meta.concrete_fields if is_money_field(f)}


def conditional_money_fields(model: type[models.Model]) -> dict[str, str]:
    """Fields that hold money or a count depending on the row, as the model declares them:
    `MONEY_IF = {"threshold": "threshold_is_money"}` names a method answering for one row."""
    return dict(getattr(model, "MONEY_IF", None) or {})


def holds_money(obj: Any, test: str) -> bool:
    """Whether `obj`'s conditional field is money; a row not attached yet counts as money, the
    default of the models that declare one."""
    method = getattr(obj, test, None)
    try:
        return bool(method()) if callable(method) else True
    except (AttributeError, models.ObjectDoesNotExist):
        return True


def major_name(name: str) -> str:
    """The column name people see in files: "amount_cents" -> "amount"."""
    return name.removesuffix(MONEY_SUFFIX) if name.endswith(MONEY_SUFFIX) else name


def _own_currency_field(model: type[models.Model]) -> models.Field[Any, Any] | None:
    try:
        field = model._meta.get_field("currency")
    except Exception:
        return None
    return field if isinstance(field, models.CharField) else None  # type: ignore[return-value]


def row_currency(obj: Any) -> str | None:
    """The currency an object's amounts are in: its own `currency` field when set, else the
    one annotated by `annotate_currency`, else its brand's, following `BRAND_FIELD` (one query
    at most, for a single object such as a change page or a new inline row)."""
    own = getattr(obj, "currency", None)
    if isinstance(own, str) and own in CURRENCY_EXPONENT:
        return own
    annotated = getattr(obj, CURRENCY_ANNOTATION, None)
    if annotated:
        return str(annotated)
    path = getattr(type(obj), "BRAND_FIELD", None)
    if not path or path == "pk":
        return None
    target: Any = obj
    for part in str(path).split("__"):
        # An unsaved row without its parent yet raises RelatedObjectDoesNotExist, an
        # AttributeError: no currency known yet.
        target = getattr(target, part, None)
        if target is None:
            return None
    currency = getattr(target, "currency", None)
    return str(currency) if currency else None


def annotate_currency(queryset: QuerySet[Any]) -> QuerySet[Any]:
    """Add each row's brand currency to a queryset of a model with money fields, unless the
    model carries a required currency of its own."""
    model = queryset.model
    path = getattr(model, "BRAND_FIELD", None)
    if not money_fields(model) or not path or path == "pk":
        return queryset
    own = _own_currency_field(model)
    if own is not None and not own.blank:
        return queryset
    if CURRENCY_ANNOTATION in queryset.query.annotations:
        return queryset
    return queryset.annotate(**{CURRENCY_ANNOTATION: F(f"{path}__currency")})


def money_display(amount: int | None, currency: str | None) -> str:
    """The one way an amount is shown in the back office: "COP 150.000,00" in Spanish, "COP
    150,000.00" in English; without a known currency, the number alone; "—" when empty."""
    if amount is None or amount == "":
        return "—"
    if currency:
        return format_minor(int(amount), currency)
    exponent = currency_exponent(None)
    major = Decimal(int(amount)).scaleb(-exponent)
    return str(number_format(major, decimal_pos=exponent, use_l10n=True, force_grouping=True))


def money_export_value(amount: int | None, currency: str | None) -> Decimal | None:
    """An amount in a file: an exact Decimal in major units with the currency's digits."""
    return None if amount is None else to_major(int(amount), currency)


def money_formfield(db_field: models.Field[Any, Any], **kwargs: Any) -> MoneyFormField:
    """The form field for a money model field, with its label, help, emptiness and limits."""
    min_value = max((v.limit_value for v in db_field.validators if isinstance(v, MinValueValidator)), default=None)
    max_value = min((v.limit_value for v in db_field.validators if isinstance(v, MaxValueValidator)), default=None)
    field = MoneyFormField(
        label=capfirst(db_field.verbose_name),
        required=not db_field.blank,
        help_text=db_field.help_text,
        min_value=min_value if isinstance(min_value, int) else None,
        max_value=max_value if isinstance(max_value, int) else None,
        disabled=bool(kwargs.get("disabled", False)),
    )
    # Blank allowed but NULL not: an empty box keeps the field's default (usually 0).
    field.empty_amount = None if db_field.null else (db_field.get_default() if db_field.has_default() else 0)
    return field


def with_row_currency(form_class: type[BaseForm]) -> type[BaseForm]:
    """A ModelForm whose money fields read and show amounts in its instance's currency."""
    if getattr(form_class, "_money_currency_bound", False):
        return form_class

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        form_class.__init__(self, *args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, MoneyFormField) and field.currency is None:
                field.currency = _currency_of(self)
            test = getattr(field, "money_if", None)
            if isinstance(field, MoneyFormField) and test:
                field.is_money = _holds_money_of(self, test)

    return type(form_class.__name__, (form_class,), {"__init__": __init__, "_money_currency_bound": True})


def _currency_of(form: Any) -> Callable[[], str | None]:
    # Resolved when used: an inline formset sets a new row's parent after building the form.
    return lambda: row_currency(getattr(form, "instance", None))


def _holds_money_of(form: Any, test: str) -> Callable[[], bool]:
    return lambda: holds_money(getattr(form, "instance", None), test)


def _display_method(field: models.Field[Any, Any], test: str | None = None) -> Callable[[Any, Any], str]:
    def show(self: Any, obj: Any) -> str:
        value = getattr(obj, field.name)
        if test is not None and value is not None and not holds_money(obj, test):
            return str(number_format(value, use_l10n=True, force_grouping=True))
        return money_display(value, row_currency(obj))

    return admin.display(description=capfirst(field.verbose_name), ordering=field.name)(show)


def display_name(name: str) -> str:
    return f"{DISPLAY_PREFIX}{name}"


def _map_names(items: Sequence[Any], names: Iterable[str]) -> list[Any]:
    """Replace money field names (also inside a tuple of fields on one line) by their display."""
    wanted = set(names)
    mapped: list[Any] = []
    for item in items:
        if isinstance(item, list | tuple):
            mapped.append(tuple(display_name(i) if i in wanted else i for i in item))
        else:
            mapped.append(display_name(item) if isinstance(item, str) and item in wanted else item)
    return mapped


class MoneyAdminMixin(admin.options.BaseModelAdmin):  # type: ignore[type-arg]
    """See the module docstring. Works for ModelAdmin and InlineModelAdmin alike."""

    _money_wrapped = True

    def _money_names(self) -> set[str]:
        return set(money_fields(self.model)) | set(conditional_money_fields(self.model))

    def formfield_for_dbfield(self, db_field: Any, request: Any, **kwargs: Any) -> Any:
        if is_money_field(db_field):
            return money_formfield(db_field, **kwargs)
        test = conditional_money_fields(self.model).get(getattr(db_field, "name", ""))
        if test:
            money = money_formfield(db_field, **kwargs)
            money.money_if = test  # type: ignore[attr-defined]
            return money
        if isinstance(db_field, models.DecimalField | models.FloatField):
            # Rates and percentages in the reader's format: "5,54" in es/pt, "5.54" in en (a dot
            # still reads as the decimal mark in Spanish: we do not group thousands). Localized
            # fields get a text box: a number box would drop "5,54" as invalid.
            kwargs.setdefault("localize", True)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return _map_names(list(super().get_readonly_fields(request, obj)), self._money_names())

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        # A money field shown read-only is shown by its display method: keep the raw field out
        # of the form, as Django does for read-only names; and the display names themselves,
        # which a viewer's fieldsets list (an inline's formset does not drop them on its own).
        excluded = super().get_exclude(request, obj)
        names = self._money_names()
        if not names:
            return excluded
        if excluded is None:
            meta = getattr(self.form, "_meta", None)
            excluded = list(getattr(meta, "exclude", None) or [])
        readonly = [n for n in super().get_readonly_fields(request, obj) if n in names]
        return [*excluded, *readonly, *(display_name(n) for n in sorted(names))]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        names = self._money_names()
        shown_readonly = {n for n in super().get_readonly_fields(request, obj) if n in names}
        if obj is not None and not self.has_change_permission(request, obj):
            shown_readonly = names  # a viewer sees every field read-only
        if not shown_readonly:
            return fieldsets
        return [(title, {**opts, "fields": _map_names(opts["fields"], shown_readonly)}) for title, opts in fieldsets]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return annotate_currency(super().get_queryset(request))


class MoneyModelAdminMixin(MoneyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    def get_list_display(self, request: HttpRequest) -> Any:
        return _map_names(list(super().get_list_display(request)), self._money_names())

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        # `change` by keyword: some admins (auth's UserAdmin) take only (request, obj, **kwargs).
        return with_row_currency(super().get_form(request, obj, change=change, **kwargs))

    def get_inlines(self, request: HttpRequest, obj: Any) -> Any:
        return [with_money(inline) for inline in super().get_inlines(request, obj)]


class MoneyInlineMixin(MoneyAdminMixin, admin.options.InlineModelAdmin):  # type: ignore[type-arg]
    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = with_row_currency(formset.form)  # type: ignore[assignment]
        return with_parent_on_rows(formset)


def with_parent_on_rows(formset: type[Any]) -> type[Any]:
    """An inline formset whose rows know their parent object while they are cleaned (Django
    sets only the parent's id, and a new parent has none yet): a row's currency and whether a
    conditional field is money come from the parent (a tier threshold from its campaign)."""

    def _construct_form(self: Any, i: int, **kwargs: Any) -> Any:
        form = formset._construct_form(self, i, **kwargs)
        if getattr(self, "fk", None) is not None and getattr(form.instance, self.fk.attname, None) in (
            None,
            self.instance.pk,
        ):
            setattr(form.instance, self.fk.name, self.instance)
        return form

    return type(formset.__name__, (formset,), {"_construct_form": _construct_form})


_WRAPPED: dict[tuple[type[Any], type[Any]], type[Any]] = {}


def with_money(admin_class: type[Any], model: type[models.Model] | None = None) -> type[Any]:
    """`admin_class` (a ModelAdmin or an inline) with money shown and typed in major units.
    Idempotent; the same class is returned for the same input."""
    if getattr(admin_class, "_money_wrapped", False):
        return admin_class
    target = model or admin_class.model
    key = (admin_class, target)
    if key in _WRAPPED:
        return _WRAPPED[key]
    inline = issubclass(admin_class, admin.options.InlineModelAdmin)
    mixin: type[Any] = MoneyInlineMixin if inline else MoneyModelAdminMixin
    attrs: dict[str, Any] = {
        "__module__": admin_class.__module__,
        "__qualname__": admin_class.__qualname__,
        "__doc__": admin_class.__doc__,
    }
    for name, field in money_fields(target).items():
        if not hasattr(admin_class, display_name(name)):
            attrs[display_name(name)] = _display_method(field)
    for name, test in conditional_money_fields(target).items():
        if not hasattr(admin_class, display_name(name)):
            attrs[display_name(name)] = _display_method(target._meta.get_field(name), test)  # type: ignore[arg-type]
    if not inline:
        attrs["inlines"] = [with_money(i) for i in getattr(admin_class, "inlines", [])]
    wrapped = type(admin_class.__name__, (mixin, admin_class), attrs)
    _WRAPPED[key] = wrapped
    return wrapped
