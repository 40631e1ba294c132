"""Console forms (CSRF-protected by Flask-WTF); each field carries its own error messages."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask_babel import get_timezone
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import AnyOf, DataRequired, EqualTo, Length, Optional

from server.business_time import FIRST_DAY, LAST_DAY, OutOfRange, local_instant, parse_day
from server.models import Channel, MessagePreference, Priority
from server.services.contact_details import InvalidContactDetail, is_phone, normalise_email

#: Channels a dispatcher types in by hand.
INTAKE_CHANNELS = (Channel.PHONE, Channel.EMAIL, Channel.WEB)


def _no_nul(_form: FlaskForm, field: object) -> None:
    data = getattr(field, "data", None)
    if isinstance(data, str) and "\x00" in data:
        raise ValidationError(_l("This text contains a character we cannot store."))


def phone_number(_form: Form, field: StringField) -> None:
    """Accept a phone number we can call and text (stored in E.164 by the view)."""
    if (field.data or "").strip() and (len(field.data) > 40 or not is_phone(field.data)):
        raise ValidationError(
            _l(
                "Enter a phone number: a mobile like 139 1234 5678, a landline with its area"
                " code like 021 5555 0101, or a number with its country code like"
                " +44 20 7946 0958."
            )
        )


def email_address(_form: Form, field: StringField) -> None:
    """Accept an e-mail address (name@example.com)."""
    if not (field.data or "").strip():
        return
    try:
        normalise_email(field.data)
    except InvalidContactDetail:
        raise ValidationError(_l("Enter an e-mail address like name@example.com.")) from None


def language_choices() -> list[SelectChoice]:
    """Return the languages a customer can be written to in (each named in itself)."""
    return [SelectChoice("zh_CN", "简体中文"), SelectChoice("en", "English")]


def message_channel_choices() -> list[SelectChoice]:
    """Return how a customer can choose to hear from us."""
    return [
        SelectChoice(MessagePreference.BOTH.value, _l("SMS and e-mail")),
        SelectChoice(MessagePreference.SMS.value, _l("SMS only")),
        SelectChoice(MessagePreference.EMAIL.value, _l("E-mail only")),
        SelectChoice(MessagePreference.NONE.value, _l("No messages")),
    ]


def calendar_day(_form: FlaskForm, field: StringField) -> None:
    """Accept a real calendar day (``YYYY-MM-DD``) within the range the business uses."""
    try:
        parse_day(field.data or "")
    except OutOfRange:
        raise ValidationError(
            _l("Enter a date between %(first)s and %(last)s.", first=FIRST_DAY, last=LAST_DAY)
        ) from None
    except ValueError:
        raise ValidationError(_l("Enter a date like 2026-03-01.")) from None


def local_time_in_range(_form: FlaskForm, field: DateTimeLocalField) -> None:
    """Accept a wall-clock time whose instant lies within the range the business uses."""
    if field.data is None:
        return
    try:
        local_instant(field.data, ZoneInfo(str(get_timezone())))
    except ValueError:
        raise ValidationError(
            _l("Enter a date between %(first)s and %(last)s.", first=FIRST_DAY, last=LAST_DAY)
        ) from None


class LoginForm(FlaskForm):
    """Username and password."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


class LogoutForm(FlaskForm):
    """An empty form: logging out is a CSRF-protected POST."""


def priority_choices() -> list[SelectChoice]:
    """Return the priorities in the user's language (blank: the category's default)."""
    return [
        SelectChoice("", _l("Category default")),
        SelectChoice(Priority.EMERGENCY.value, _l("Emergency")),
        SelectChoice(Priority.HIGH.value, _l("High")),
        SelectChoice(Priority.NORMAL.value, _l("Normal")),
        SelectChoice(Priority.LOW.value, _l("Low")),
    ]


class IntakeForm(FlaskForm):
    """A new work order from a phone call or an e-mail."""

    customer_id = HiddenField()
    customer_query = StringField(
        _l("Customer"), validators=[Optional(), Length(max=200)], render_kw={"autocomplete": "off"}
    )
    new_customer_name = StringField(
        _l("New customer: name"), validators=[Optional(), Length(max=200), _no_nul]
    )
    new_customer_phone = StringField(
        _l("New customer: mobile phone"), validators=[Optional(), phone_number]
    )
    new_customer_other_phone = StringField(
        _l("New customer: other phone"), validators=[Optional(), phone_number]
    )
    new_customer_email = StringField(
        _l("New customer: e-mail"), validators=[Optional(), email_address]
    )
    new_customer_address = StringField(
        _l("New customer: address"), validators=[Optional(), Length(max=300), _no_nul]
    )
    new_customer_locale = SelectField(
        _l("New customer: language"), choices=language_choices(), default="zh_CN"
    )
    new_customer_channel = SelectField(
        _l("New customer: messages by"),
        choices=message_channel_choices(),
        default=MessagePreference.BOTH.value,
    )
    new_customer_consent = BooleanField(
        _l("The customer agrees to receive messages about their jobs")
    )
    site_id = SelectField(_l("Site"), choices=[], validate_choice=False)
    asset_id = SelectField(_l("Asset"), choices=[], validate_choice=False)
    category_id = SelectField(_l("Category"), choices=[], validate_choice=False)
    priority = SelectField(_l("Priority"), choices=[], validate_choice=False)
    channel = SelectField(
        _l("Channel"),
        choices=[
            SelectChoice(Channel.PHONE.value, _l("Phone")),
            SelectChoice(Channel.EMAIL.value, _l("E-mail")),
            SelectChoice(Channel.WEB.value, _l("Web")),
        ],
    )
    title = StringField(_l("Summary"), validators=[DataRequired(), Length(max=200), _no_nul])
    description = TextAreaField(
        _l("Description"), validators=[Optional(), Length(max=10000), _no_nul]
    )
    requested_start_at = DateTimeLocalField(
        _l("Requested from"), format="%Y-%m-%dT%H:%M", validators=[Optional(), local_time_in_range]
    )
    requested_end_at = DateTimeLocalField(
        _l("Requested until"), format="%Y-%m-%dT%H:%M", validators=[Optional(), local_time_in_range]
    )
    attachments = MultipleFileField(_l("Photos (JPEG or PNG)"))
    confirm_duplicate = BooleanField(_l("Create it anyway"))

    def validate_priority(self, field: SelectField) -> None:
        """Accept the blank default or a known priority."""
        if field.data and field.data not in {p.value for p in Priority}:
            raise ValidationError(_l("Choose a priority from the list."))

    def validate_channel(self, field: SelectField) -> None:
        """Accept the hand-typed channels only."""
        if field.data not in {c.value for c in INTAKE_CHANNELS}:
            raise ValidationError(_l("Choose a channel from the list."))


def _timezone_ok(_form: FlaskForm, field: StringField) -> None:
    if not field.data:
        return
    try:
        ZoneInfo(field.data)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(_l("Unknown time zone, e.g. Asia/Shanghai.")) from None
    if field.data not in available_timezones():
        raise ValidationError(_l("Unknown time zone, e.g. Asia/Shanghai."))


class ProfileForm(FlaskForm):
    """Language and time zone."""

    locale = SelectField(
        _l("Language"), choices=[SelectChoice("en", "English"), SelectChoice("zh_CN", "简体中文")]
    )
    timezone = StringField(_l("Time zone"), validators=[Optional(), Length(max=64), _timezone_ok])


class PasswordForm(FlaskForm):
    """Change the password: the current one, then the new one twice."""

    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=1024)]
    )
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=1024)])
    confirm_password = PasswordField(
        _l("Repeat the new password"),
        validators=[
            DataRequired(),
            EqualTo("new_password", message=_l("The two new passwords differ.")),
        ],
    )


class TransitionForm(FlaskForm):
    """One workflow step taken from the detail page."""

    transition = HiddenField(validators=[DataRequired(), Length(max=60)])
    expected_version = IntegerField(validators=[DataRequired()])
    assignee_id = IntegerField(_l("Technician"), validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000), _no_nul])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=500), _no_nul])


class HandOffForm(FlaskForm):
    """Hand an order to a colleague in another department; the first owner stays owner."""

    user_id = IntegerField(
        _l("Colleague"), validators=[DataRequired(message=_l("Choose a colleague."))]
    )
    reason = TextAreaField(
        _l("Reason"),
        validators=[DataRequired(message=_l("Say why.")), Length(max=200), _no_nul],
    )


class CommentForm(FlaskForm):
    """An internal note on an order."""

    body = TextAreaField(_l("Comment"), validators=[DataRequired(), Length(max=5000), _no_nul])


class BoardMoveForm(FlaskForm):
    """Assign, reassign or reschedule a job from the board."""

    order_id = IntegerField(validators=[DataRequired()])
    expected_version = IntegerField(validators=[DataRequired()])
    technician_id = IntegerField(validators=[Optional()])
    day = StringField(validators=[Optional(), calendar_day])
    hour = IntegerField(validators=[Optional()])


class UserActiveForm(FlaskForm):
    """Disable or re-enable a user account (admin page)."""

    active = HiddenField(validators=[DataRequired(), AnyOf(["0", "1"])])


class EraseCustomerForm(FlaskForm):
    """Erase a customer for good: the admin types the customer's name to confirm."""

    confirm_name = StringField(
        _l("Type the customer's name to confirm"), validators=[DataRequired()]
    )


class ContactForm(Form):
    """One contact of a customer (a row of the customer file's edit form)."""

    id = HiddenField()
    # No Optional(): it would stop the chain before validate_name looks at the row.
    name = StringField(_l("Name"), validators=[Length(max=120), _no_nul])
    phone = StringField(_l("Phone"), validators=[Optional(), phone_number])
    email = StringField(_l("E-mail"), validators=[Optional(), email_address])
    remove = BooleanField(_l("Remove"))

    def validate_name(self, field: StringField) -> None:
        """Ask for a name on any contact that is kept and has a phone or an e-mail."""
        filled = (self.phone.data or "").strip() or (self.email.data or "").strip()
        if filled and not (field.data or "").strip() and not self.remove.data:
            raise ValidationError(_l("Give the contact's name."))


class CustomerDetailsForm(FlaskForm):
    """A customer's own details and contacts, as the customer file edits them."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200), _no_nul])
    preferred_locale = SelectField(_l("Language"), choices=language_choices())
    preferred_channel = SelectField(_l("Messages by"), choices=message_channel_choices())
    message_consent = BooleanField(_l("The customer agrees to receive messages about their jobs"))
    contacts = FieldList(FormField(ContactForm), min_entries=1, max_entries=50)
    #: Which row of ``contacts`` is the primary contact (its index).
    primary_contact = HiddenField()


class RedriveForm(FlaskForm):
    """Retry a dead outbox message."""
