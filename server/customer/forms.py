"""Forms of the public pages (CSRF-protected by Flask-WTF); the services validate the data."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import MultipleFileField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice


class SurveyForm(FlaskForm):
    """Rating, "was the problem solved?" and a comment."""

    rating = RadioField(
        _l("How satisfied are you with the visit?"),
        choices=[SelectChoice(str(n), str(n)) for n in (5, 4, 3, 2, 1)],
        validate_choice=False,
    )
    solved = RadioField(
        _l("Was the problem solved?"),
        choices=[SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))],
        validate_choice=False,
    )
    comment = TextAreaField(_l("Anything else you want to tell us?"))


class ProblemForm(FlaskForm):
    """What went wrong, and a number to call back on."""

    description = TextAreaField(_l("What is the problem?"))
    contact_phone = StringField(_l("Phone number to call you back (optional)"))


class RequestForm(FlaskForm):
    """The public request form; ``website`` is a honeypot that people never see."""

    category_id = SelectField(_l("What do you need?"), choices=[], validate_choice=False)
    description = TextAreaField(_l("Describe the problem"))
    name = StringField(_l("Your name"))
    phone = StringField(_l("Phone"))
    email = StringField(_l("E-mail"))
    address = StringField(_l("Address where the work is needed"))
    photos = MultipleFileField(_l("Photos (optional)"))
    website = StringField("Website")
