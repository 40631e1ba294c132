"""``/api/v1/customers``: the customer file with contacts, sites and assets."""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import exists, or_, select

from server.api import bp
from server.api.fields import PageArgsSchema, Text
from server.auth.permissions import Capability
from server.business_time import HISTORIC_FIRST_DAY, Day, Instant
from server.extensions import db
from server.models import Contact, Customer, CustomerTier, MessagePreference, Site
from server.operations import operation
from server.problems import Problem, load_args, load_json
from server.services.contact_details import InvalidContactDetail, normalise_phone, phone_matches
from server.services.customers import (
    add_asset,
    add_contact,
    add_site,
    create_customer,
    load_customer_file,
    update_customer,
)
from server.services.search import contains_pattern

LOCALES = ("en", "zh_CN")
#: What a refused phone number is told (the console says the same, translated).
PHONE_MESSAGE = (
    "Not a phone number we can use: give a Chinese mobile (13912345678), a Chinese landline"
    " with its area code (021 5555 0101), or the number with its country code (+44 20 7946 0958)."
)


class Phone(fields.String):
    """A phone number, stored in E.164: Chinese mobiles and landlines get +86 in front."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > 40:
            raise ValidationError(PHONE_MESSAGE)
        try:
            return normalise_phone(text)
        except InvalidContactDetail:
            raise ValidationError(PHONE_MESSAGE) from None


class GivenSince(fields.Boolean):
    """True when the time it reads (consent given at) is set."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> bool:
        return value is not None


# --- Input ----------------------------------------------------------------------------------


class ContactCreateSchema(Schema):
    """A new contact."""

    name = Text(120, required=True)
    phone = Phone(allow_none=True, metadata={"example": "+8613912345678"})
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    is_primary = fields.Boolean(load_default=False)


class AssetCreateSchema(Schema):
    """A new asset."""

    model = Text(120, required=True)
    kind = Text(40, allow_none=True)
    manufacturer = Text(80, allow_none=True)
    serial_number = Text(80, allow_none=True)
    installed_on = Day(first=HISTORIC_FIRST_DAY, allow_none=True)
    warranty_ends_on = Day(allow_none=True)


class SiteCreateSchema(Schema):
    """A new site with its assets."""

    address = Text(300, required=True)
    label = Text(120, allow_none=True)
    district = Text(80, allow_none=True)
    city = Text(80, allow_none=True)
    latitude = fields.Float(allow_none=True, validate=validate.Range(min=-90, max=90))
    longitude = fields.Float(allow_none=True, validate=validate.Range(min=-180, max=180))
    access_notes = Text(2000, allow_none=True)
    assets = fields.List(
        fields.Nested(AssetCreateSchema), load_default=list, validate=validate.Length(max=100)
    )


class CustomerCreateSchema(Schema):
    """A new customer with contacts and sites."""

    name = Text(200, required=True)
    tier = fields.Enum(CustomerTier, by_value=True, load_default=CustomerTier.STANDARD)
    preferred_locale = fields.String(load_default="zh_CN", validate=validate.OneOf(LOCALES))
    is_company = fields.Boolean(load_default=False)
    notes = Text(5000, allow_none=True)
    preferred_channel = fields.Enum(
        MessagePreference, by_value=True, load_default=MessagePreference.BOTH
    )
    message_consent = fields.Boolean(
        load_default=False,
        metadata={"description": "The customer agreed to receive messages about their jobs."},
    )
    contacts = fields.List(
        fields.Nested(ContactCreateSchema), load_default=list, validate=validate.Length(max=50)
    )
    sites = fields.List(
        fields.Nested(SiteCreateSchema), load_default=list, validate=validate.Length(max=100)
    )


class CustomerUpdateSchema(Schema):
    """Changes to a customer's own fields."""

    name = Text(200)
    tier = fields.Enum(CustomerTier, by_value=True)
    preferred_locale = fields.String(validate=validate.OneOf(LOCALES))
    is_company = fields.Boolean()
    notes = Text(5000, allow_none=True)
    preferred_channel = fields.Enum(MessagePreference, by_value=True)
    message_consent = fields.Boolean(
        metadata={"description": "Give (true) or withdraw (false) consent to messages."}
    )


class CustomerListArgsSchema(PageArgsSchema):
    """Search for the customer list."""

    q = Text(100)
    tier = fields.Enum(CustomerTier, by_value=True)


# --- Output ---------------------------------------------------------------------------------


class ContactSchema(Schema):
    """A contact."""

    id = fields.Integer()
    name = fields.String()
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    is_primary = fields.Boolean()


class AssetSchema(AssetCreateSchema):
    """An asset."""

    id = fields.Integer()
    site_id = fields.Integer()


class SiteSchema(SiteCreateSchema):
    """A site with its assets."""

    id = fields.Integer()
    customer_id = fields.Integer()
    assets = fields.List(fields.Nested(AssetSchema))


class CustomerSummarySchema(Schema):
    """A customer in a list."""

    id = fields.Integer()
    name = fields.String()
    tier = fields.Enum(CustomerTier, by_value=True)
    preferred_locale = fields.String()
    is_company = fields.Boolean()


class CustomerSchema(CustomerSummarySchema):
    """A customer's file: contacts, sites and assets."""

    notes = fields.String(allow_none=True)
    preferred_channel = fields.Enum(MessagePreference, by_value=True)
    message_consent = GivenSince(attribute="message_consent_at", dump_only=True)
    message_consent_at = Instant(allow_none=True)
    contacts = fields.List(fields.Nested(ContactSchema))
    sites = fields.List(fields.Nested(SiteSchema))
    created_at = Instant()
    updated_at = Instant()


class CustomerListSchema(Schema):
    """A page of customers."""

    items = fields.List(fields.Nested(CustomerSummarySchema))
    next_cursor = fields.String(allow_none=True)


# --- Views ----------------------------------------------------------------------------------


def _load_customer(customer_id: int) -> Customer:
    customer = load_customer_file(customer_id)
    if customer is None:
        raise Problem(404, "not_found", "No such customer.")
    return customer


@bp.get("/customers")
@operation(
    "Search customers by name, phone or address.",
    capability=Capability.CUSTOMERS_READ,
    args=CustomerListArgsSchema(),
    response=CustomerListSchema(),
    tag="customers",
    errors=(422,),
)
def list_customers() -> Response:
    """List customers matching a search, in id order."""
    args = load_args(CustomerListArgsSchema())
    query = select(Customer)
    if args.get("q"):
        pattern = contains_pattern(args["q"])
        query = query.where(
            or_(
                Customer.name.ilike(pattern, escape="\\"),
                exists().where(Contact.customer_id == Customer.id, phone_matches(args["q"])),
                exists().where(
                    Site.customer_id == Customer.id, Site.address.ilike(pattern, escape="\\")
                ),
            )
        )
    if args.get("tier"):
        query = query.where(Customer.tier == args["tier"])
    cursor = args.get("cursor")
    if cursor:
        if not cursor.isdigit() or int(cursor) > 2**31:
            raise Problem(
                422, "validation_failed", "Invalid cursor.", errors={"cursor": ["Invalid cursor."]}
            )
        query = query.where(Customer.id > int(cursor))
    limit = args["limit"]
    rows = list(db.session.scalars(query.order_by(Customer.id).limit(limit + 1)))
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    return jsonify(CustomerListSchema().dump({"items": rows[:limit], "next_cursor": next_cursor}))


@bp.post("/customers")
@operation(
    "Create a customer with contacts, sites and assets.",
    capability=Capability.CUSTOMERS_WRITE,
    body=CustomerCreateSchema(),
    response=CustomerSchema(),
    status=201,
    tag="customers",
    errors=(415, 422),
)
def create_customer_view() -> tuple[Response, int]:
    """Create a customer."""
    data = load_json(CustomerCreateSchema())
    customer = create_customer(data, actor=g.api_user)
    db.session.commit()
    return jsonify(CustomerSchema().dump(_load_customer(customer.id))), 201


@bp.get("/customers/<int:customer_id>")
@operation(
    "Get a customer's file.",
    capability=Capability.CUSTOMERS_READ,
    response=CustomerSchema(),
    tag="customers",
    errors=(404,),
)
def get_customer(customer_id: int) -> Response:
    """Return a customer with contacts, sites and assets."""
    return jsonify(CustomerSchema().dump(_load_customer(customer_id)))


@bp.patch("/customers/<int:customer_id>")
@operation(
    "Change a customer's name, tier, language, notes, preferred channel or consent.",
    capability=Capability.CUSTOMERS_WRITE,
    body=CustomerUpdateSchema(),
    response=CustomerSchema(),
    tag="customers",
    errors=(404, 415, 422),
)
def update_customer_view(customer_id: int) -> Response:
    """Update a customer."""
    customer = _load_customer(customer_id)
    changes = load_json(CustomerUpdateSchema())
    update_customer(customer, changes, actor=g.api_user)
    db.session.commit()
    return jsonify(CustomerSchema().dump(_load_customer(customer_id)))


@bp.post("/customers/<int:customer_id>/contacts")
@operation(
    "Add a contact to a customer.",
    capability=Capability.CUSTOMERS_WRITE,
    body=ContactCreateSchema(),
    response=ContactSchema(),
    status=201,
    tag="customers",
    errors=(404, 415, 422),
)
def add_contact_view(customer_id: int) -> tuple[Response, int]:
    """Add a contact."""
    customer = _load_customer(customer_id)
    contact = add_contact(customer, load_json(ContactCreateSchema()), actor=g.api_user)
    db.session.commit()
    return jsonify(ContactSchema().dump(contact)), 201


@bp.post("/customers/<int:customer_id>/sites")
@operation(
    "Add a site (with assets) to a customer.",
    capability=Capability.CUSTOMERS_WRITE,
    body=SiteCreateSchema(),
    response=SiteSchema(),
    status=201,
    tag="customers",
    errors=(404, 415, 422),
)
def add_site_view(customer_id: int) -> tuple[Response, int]:
    """Add a site."""
    customer = _load_customer(customer_id)
    site = add_site(customer, load_json(SiteCreateSchema()), actor=g.api_user)
    db.session.commit()
    return jsonify(SiteSchema().dump(site)), 201


@bp.post("/customers/<int:customer_id>/sites/<int:site_id>/assets")
@operation(
    "Add an asset to a site.",
    capability=Capability.CUSTOMERS_WRITE,
    body=AssetCreateSchema(),
    response=AssetSchema(),
    status=201,
    tag="customers",
    errors=(404, 415, 422),
)
def add_asset_view(customer_id: int, site_id: int) -> tuple[Response, int]:
    """Add an asset."""
    site = db.session.get(Site, site_id)
    if site is None or site.customer_id != customer_id:
        raise Problem(404, "not_found", "No such site.")
    asset = add_asset(site, load_json(AssetCreateSchema()), actor=g.api_user)
    db.session.commit()
    return jsonify(AssetSchema().dump(asset)), 201
