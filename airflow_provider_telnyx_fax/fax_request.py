"""What the hook asks Telnyx: a fax send (its fields, checks and wire forms) and a fax list query."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

from airflow_provider_telnyx_fax.exceptions import TelnyxFaxValidationError
from airflow_provider_telnyx_fax.validation import check_send_request

if TYPE_CHECKING:
    from collections.abc import Mapping

# Field names that differ between Python and the API.
API_NAMES = {"from_number": "from"}
MULTIPART = {"multipart": True}


@dataclass(frozen=True, kw_only=True)
class FaxSendRequest:
    """
    Everything Telnyx's SendFax takes, by its API names (``from`` is ``from_number`` here).

    The operators build one, the hook fills in the connection's defaults, checks it before any
    request and encodes it as JSON or, with a file, as multipart (only the fields marked
    ``multipart`` go that way; Telnyx's multipart schema has no others). Adding a send option means
    adding it here, plus the operator's argument and ``template_fields``.
    """

    to: str
    media_url: str | None = None
    media_name: str | None = None
    from_number: str | None = field(default=None, metadata=MULTIPART)
    connection_id: str | None = field(default=None, metadata=MULTIPART)
    quality: str | None = field(default=None, metadata=MULTIPART)
    t38_enabled: bool | None = field(default=None, metadata=MULTIPART)
    monochrome: bool | None = field(default=None, metadata=MULTIPART)
    black_threshold: int | None = None
    store_media: bool | None = field(default=None, metadata=MULTIPART)
    store_preview: bool | None = field(default=None, metadata=MULTIPART)
    preview_format: str | None = None
    from_display_name: str | None = None
    webhook_url: str | None = None
    client_state: str | None = None

    @classmethod
    def of(cls, request: FaxSendRequest | str | None = None, /, **fields: Any) -> FaxSendRequest:
        """
        The request a hook call names: a :class:`FaxSendRequest`, or its fields by keyword.

        ``of(to="+1...", media_url=...)``, ``of("+1...", media_url=...)`` and ``of(FaxSendRequest(...))``
        are the same request. A misspelt or missing field is refused by name, as a bad value is by
        :meth:`check`, rather than with Python's ``TypeError``.

        :param request: a whole request, or the destination (``to``); ``None`` when ``fields`` hold ``to``.
        :param fields: ``to`` and the options, by the names of this class's fields.
        """
        if isinstance(request, FaxSendRequest):
            if fields:
                raise TelnyxFaxValidationError(
                    next(iter(fields)), "give it inside the FaxSendRequest, or pass every field by keyword"
                )
            return request
        if request is not None:
            if "to" in fields:
                raise TelnyxFaxValidationError("to", "is given twice, first by position and then by keyword")
            fields["to"] = request
        for name in fields:
            if name != "to" and name not in cls.option_names():
                raise TelnyxFaxValidationError(name, f"is not a send option; use to or {', '.join(cls.option_names())}")
        if "to" not in fields:
            raise TelnyxFaxValidationError("to", "is missing; give the destination, e.g. to='+13125550123'")
        return cls(**fields)

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        """Every field but ``to``: what an operator forwards from its own arguments."""
        return tuple(item.name for item in fields(cls) if item.name != "to")

    @classmethod
    def from_attributes(cls, source: Any, **overrides: Any) -> FaxSendRequest:
        """A request from an object whose attributes carry the same names (an operator)."""
        values: dict[str, Any] = {name: getattr(source, name, None) for name in ("to", *cls.option_names())}
        values.update(overrides)
        # Empty template renders ("") mean "not given", like None.
        given: dict[str, Any] = {name: (None if value == "" else value) for name, value in values.items()}
        return cls(**given)

    def with_defaults(self, *, from_number: Any = None, connection_id: Any = None) -> FaxSendRequest:
        """This request with the connection's ``from_number`` and ``connection_id`` where it names none."""
        return replace(
            self,
            from_number=self.from_number or from_number or None,
            connection_id=str(self.connection_id or connection_id or "") or None,
        )

    def json_body(self) -> dict[str, Any]:
        """The SendFax JSON body: API names, unset fields left out."""
        body: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if value is not None:
                body[API_NAMES.get(item.name, item.name)] = value
        return body

    def multipart_form(self) -> dict[str, str]:
        """The form fields that go beside an uploaded file; raises for options multipart cannot carry."""
        form: dict[str, str] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if value is None:
                continue
            if item.name != "to" and not item.metadata.get("multipart"):
                raise TelnyxFaxValidationError(
                    item.name, "cannot go with an uploaded file; upload it with upload_media and send by media_name"
                )
            form[API_NAMES.get(item.name, item.name)] = _form_value(value)
        return form

    def check(self, *, with_file: bool = False) -> None:
        """Telnyx's checks, before any request; raises :class:`TelnyxFaxValidationError` naming the field."""
        body = self.json_body()
        if with_file:
            body["contents"] = True
        check_send_request(body)


@dataclass(frozen=True, kw_only=True)
class PreparedFaxSendRequest(FaxSendRequest):
    """
    A request ready for a JSON send: the connection's defaults applied and Telnyx's checks passed.

    The hook's ``prepare_send`` makes one; ``send_fax`` and ``asend_fax`` send it as it is, so the
    connection is read and the request checked once however many hands it passes through.
    """

    @classmethod
    def resolved(cls, request: FaxSendRequest, extras: Mapping[str, Any], *, with_file: bool = False) -> FaxSendRequest:
        """
        ``request`` with the connection's defaults, checked; raises naming a bad field.

        :param request: the request as the caller gave it.
        :param extras: the connection's extras (``from_number``, ``connection_id``).
        :param with_file: checked for a multipart send with the document's bytes; such a request is
            checked again when sent, since the same request may go either way.
        """
        if isinstance(request, cls) and not with_file:
            return request
        with_defaults = request.with_defaults(
            from_number=extras.get("from_number"), connection_id=extras.get("connection_id")
        )
        with_defaults.check(with_file=with_file)
        if with_file:
            return with_defaults
        return cls(**{item.name: getattr(with_defaults, item.name) for item in fields(with_defaults)})


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# ListFaxes filters, by keyword argument, in Telnyx's deepObject form.
LIST_FILTERS = {
    "direction": "filter[direction][eq]",
    "to": "filter[to][eq]",
    "from_number": "filter[from][eq]",
    "created_at_gte": "filter[created_at][gte]",
    "created_at_gt": "filter[created_at][gt]",
    "created_at_lte": "filter[created_at][lte]",
    "created_at_lt": "filter[created_at][lt]",
}


@dataclass(frozen=True)
class FaxListQuery:
    """One ListFaxes walk: the filters in Telnyx's deepObject form, page by page until the last."""

    filters: Mapping[str, str]
    page_size: int = 50

    @classmethod
    def of(cls, *, page_size: int = 50, **filters: str | None) -> FaxListQuery:
        params: dict[str, str] = {}
        for name, value in filters.items():
            if name not in LIST_FILTERS:
                raise TelnyxFaxValidationError(name, f"is not a fax list filter; use one of {', '.join(LIST_FILTERS)}")
            if value is not None:
                params[LIST_FILTERS[name]] = value
        return cls(params, page_size)

    def params(self, page_number: int) -> dict[str, Any]:
        return {**self.filters, "page[number]": page_number, "page[size]": self.page_size}

    def next_page(self, body: Mapping[str, Any], page_number: int) -> int | None:
        """The page to fetch after ``body`` (page ``page_number``), or ``None`` when that was the last."""
        total_pages = (body.get("meta") or {}).get("total_pages")
        if not body.get("data") or total_pages is None or page_number >= int(total_pages):
            return None
        return page_number + 1
