"""The admin half of brand scoping. Every ModelAdmin of brand-owned data uses
`BrandScopedAdminMixin`; the path to the brand is the model's `BRAND_FIELD` (an admin may
override it with `brand_field`)."""

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import NotRelationField, get_fields_from_path, unquote
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db.models import ForeignKey, Model, QuerySet
from django.forms import ModelChoiceField, ModelForm
from django.http import Http404, HttpRequest

from brands.scoping import brand_ids_for_user, scope_queryset


def _labelled(queryset: QuerySet[Any]) -> list[tuple[Any, str]]:
    # A model whose label reads a relation (Campaign: "Brand · Campaign") names it in
    # LABEL_RELATED, so the choices are labelled from one query instead of one per row.
    related = getattr(queryset.model, "LABEL_RELATED", ())
    return [(obj.pk, str(obj)) for obj in (queryset.select_related(*related) if related else queryset)]


class LabelledRelatedFilter(admin.RelatedFieldListFilter):
    """Django's related-field filter, its choices labelled in one query."""

    def field_choices(self, field: Any, request: HttpRequest, model_admin: Any) -> Any:
        if field.remote_field.limit_choices_to:
            return super().field_choices(field, request, model_admin)
        queryset = field.related_model._default_manager.all()
        ordering = self.field_admin_ordering(field, request, model_admin)
        return _labelled(queryset.order_by(*ordering) if ordering else queryset)


class PresentRelatedFilter(admin.RelatedOnlyFieldListFilter):
    """Only the values present in the rows the staff member may see, labelled in one query."""

    def field_choices(self, field: Any, request: HttpRequest, model_admin: Any) -> Any:
        present = model_admin.get_queryset(request).distinct().values_list(f"{self.field_path}__pk", flat=True)
        queryset = field.related_model._default_manager.filter(pk__in=present)
        ordering = self.field_admin_ordering(field, request, model_admin)
        return _labelled(queryset.order_by(*ordering) if ordering else queryset)


class BrandScopedAdminMixin(admin.ModelAdmin):  # type: ignore[type-arg]
    #: lookup from this model to its brand ("brand", "campaign__brand", "pk" for Brand itself);
    #: None means the model's BRAND_FIELD, which every brand-owned model declares.
    brand_field: str | None = None

    @property
    def brand_path(self) -> str:
        return self.brand_field or str(getattr(self.model, "BRAND_FIELD", "brand"))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return scope_queryset(
            super().get_queryset(request), brand_ids_for_user(request.user), brand_field=self.brand_path
        )

    def get_list_filter(self, request: HttpRequest) -> Any:
        # A plain related-field filter lists every row of the related table (every brand's
        # name, every campaign); scoped staff get only the values present in their rows. Both
        # label their choices in one query (a campaign's label names its brand).
        filters = super().get_list_filter(request)
        only_present = brand_ids_for_user(request.user) is not None
        chosen: list[Any] = []
        for item in filters:
            if isinstance(item, str):
                try:
                    field = get_fields_from_path(self.model, item)[-1]
                except (FieldDoesNotExist, NotRelationField):
                    field = None
                if field is not None and field.is_relation:
                    if only_present:
                        chosen.append((item, PresentRelatedFilter))
                        continue
                    if getattr(field.related_model, "LABEL_RELATED", ()):
                        chosen.append((item, LabelledRelatedFilter))
                        continue
            chosen.append(item)
        return chosen

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        # Another brand's object answers 404, exactly like one that does not exist, instead of
        # the admin's default redirect: nothing tells the visitor it exists.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        return obj

    def history_view(self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None) -> Any:
        # simple-history falls back to the history of deleted rows, which would show another
        # brand's data: scoped staff only see the history of rows they can see now.
        scoped = brand_ids_for_user(request.user) is not None
        if scoped and not self.get_queryset(request).filter(pk=unquote(object_id)).exists():
            raise Http404
        return super().history_view(request, object_id, extra_context)

    def formfield_for_foreignkey(self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if isinstance(field, ModelChoiceField) and field.queryset is not None:
            field.queryset = _scope_choices(field.queryset, request)
        return field

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if isinstance(field, ModelChoiceField) and field.queryset is not None:
            field.queryset = _scope_choices(field.queryset, request)
        return field

    def save_model(self, request: HttpRequest, obj: Model, form: ModelForm[Any], change: bool) -> None:
        self.check_brand_allowed(request, obj)
        super().save_model(request, obj, form, change)

    def check_brand_allowed(self, request: HttpRequest, obj: Model) -> None:
        allowed = brand_ids_for_user(request.user)
        if allowed is None:
            return
        brand_id = _brand_id_of(obj, self.brand_path)
        if brand_id is None:
            # No brand on the object itself (the path crosses a many-valued relation, or it is
            # not set yet): only a row the person already sees may be saved. Fail closed.
            if obj.pk is not None and self.get_queryset(request).filter(pk=obj.pk).exists():
                return
            raise PermissionDenied
        if brand_id not in allowed:
            raise PermissionDenied


def _brand_id_of(obj: Model, brand_field: str) -> int | None:
    if brand_field == "pk":
        return obj.pk
    target: Any = obj
    for part in brand_field.split("__"):
        target = getattr(target, part, None)
        if target is None or not isinstance(target, Model):
            return None  # unset, or a related manager (many brands): the caller decides
    return target.pk


def _scope_choices(queryset: QuerySet[Any], request: HttpRequest) -> QuerySet[Any]:
    """Limit a choice list to the user's brands when the related model is brand-owned."""
    allowed = brand_ids_for_user(request.user)
    if allowed is None:
        return queryset
    brand_path = getattr(queryset.model, "BRAND_FIELD", None)
    if brand_path:
        return scope_queryset(queryset, allowed, brand_field=brand_path)
    return queryset
