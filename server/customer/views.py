"""Customer pages: the job page behind a link, its survey and problem report, and /request.

No sign-in: a job page is reachable only through its link's token, which names exactly one
order; every lookup goes through the token, never through an id from the request.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Response as FlaskResponse
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from server.body_limits import accepts_body
from server.customer import bp
from server.customer.forms import ProblemForm, RequestForm, SurveyForm
from server.extensions import blob_store, client_address, db, limiter, sqlite_write_intent
from server.i18n import select_locale
from server.logs import security_event
from server.models import CustomerLink
from server.models.base import utcnow
from server.services.customer_portal import (
    LinkRefused,
    completion_sheet,
    describe_order_for_customer,
    issue_customer_link,
    report_problem,
    resolve_customer_link,
    visible_survey,
)
from server.services.errors import InvalidInput, ServiceError
from server.services.intake import IncomingFile, public_categories, submit_public_request
from server.services.surveys import answer_survey
from server.services.technician_photos import PORTRAIT_CONTENT_TYPE, technician_photo_bytes

log = logging.getLogger("fieldwork.customer")

#: The languages the public pages speak.
LANGUAGES = ("en", "zh_CN")
#: Public request form submissions per client address.
REQUEST_LIMIT = "5/hour"
#: Anyone may post the public form: a few phone photos, not the 32 MB the console takes.
PUBLIC_REQUEST_BODY = 20 * 1024 * 1024
#: Survey answers and problem reports per client address.
PAGE_POST_LIMIT = "20/hour"


def _language(preferred: str | None = None) -> str:
    """Pick the page language: ``?lang=``, else the customer's, else the browser's."""
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    if preferred:
        return "zh_CN" if preferred.startswith("zh") else "en"
    return "zh_CN" if select_locale().startswith("zh") else "en"


def _render(template: str, language: str, status: int = 200, **context: Any) -> Response:
    with force_locale(language):
        body = render_template(template, language=language, **context)
    return FlaskResponse(body, status=status)


def _refused(error: LinkRefused) -> Response:
    log.info("customer link refused: %s", error.reason)
    security_event("authz.denied", reason=f"customer_link.{error.reason}", status=error.status)
    return _render(
        "customer/link/refused.html", _language(), status=error.status, reason=error.reason
    )


@bp.errorhandler(CSRFError)
def _form_expired(error: CSRFError) -> Response:
    """Explain a refused form (missing or stale CSRF token) in the visitor's language."""
    log.info("public form refused: %s", error.description)
    return _render("customer/problem.html", _language(), status=400, problem="form_expired")


@bp.errorhandler(429)
def _too_many(error: Exception) -> Response:
    """Ask the visitor to wait when the rate limit is reached."""
    response = _render("customer/problem.html", _language(), status=429, problem="too_many")
    retry_after = getattr(error, "retry_after", None)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _load(token: str) -> CustomerLink:
    """Return the live link of ``token`` (the order it shows is ``link.work_order``).

    Every page view records ``last_used_at``, so even a GET writes: on SQLite it takes the
    write lock up front instead of failing to upgrade a stale read transaction.
    """
    sqlite_write_intent.set(True)
    return resolve_customer_link(token)


def _job_page(
    link: CustomerLink,
    *,
    status: int = 200,
    survey_form: SurveyForm | None = None,
    problem_form: ProblemForm | None = None,
    errors: dict[str, list[str]] | None = None,
) -> Response:
    order = link.work_order
    language = _language(order.customer.preferred_locale)
    view = describe_order_for_customer(order, language)
    return _render(
        "customer/job/page.html",
        language,
        status=status,
        view=view,
        token=request.view_args["token"] if request.view_args else "",
        survey_form=survey_form or SurveyForm(formdata=None),
        problem_form=problem_form or ProblemForm(formdata=None),
        errors=errors or {},
        timezone=_timezone(),
    )


def _timezone() -> str:
    from flask import current_app

    return str(current_app.config["FIELDWORK_SETTINGS"].timezone)


@bp.get("/r/<token>")
def job_page(token: str) -> Response:
    """Show the customer what is happening with their order."""
    try:
        link = _load(token)
    except LinkRefused as error:
        return _refused(error)
    response = _job_page(link)
    db.session.commit()  # last_used_at
    return response


@bp.post("/r/<token>/survey")
@limiter.limit(PAGE_POST_LIMIT, key_func=client_address)
def answer_survey_view(token: str) -> Response:
    """Take the customer's survey answer; an unhappy one opens a complaint."""
    try:
        link = _load(token)
    except LinkRefused as error:
        return _refused(error)
    form = SurveyForm()
    survey = visible_survey(link.work_order, utcnow())
    if survey is None:
        abort(404)
    if not form.validate_on_submit():
        abort(400)
    rating = int(form.rating.data) if (form.rating.data or "").isdigit() else None
    solved = {"yes": True, "no": False}.get(form.solved.data or "")
    try:
        answer_survey(survey, rating=rating, solved=solved, comment=form.comment.data)
    except InvalidInput as error:
        db.session.rollback()
        return _job_page(link, status=422, survey_form=form, errors=error.details["errors"])
    except ServiceError as error:
        db.session.rollback()
        with force_locale(_language(link.work_order.customer.preferred_locale)):
            flash(_("This survey has already been answered. Thank you!"), "info")
        log.info("survey answer refused: %s", error.code)
        return redirect(url_for("customer.job_page", token=token))
    db.session.commit()
    with force_locale(_language(link.work_order.customer.preferred_locale)):
        flash(_("Thank you for your answer!"), "success")
    return redirect(url_for("customer.job_page", token=token) + "#survey")


@bp.post("/r/<token>/problem")
@limiter.limit(PAGE_POST_LIMIT, key_func=client_address)
def report_problem_view(token: str) -> Response:
    """Take a problem the customer reports about their order."""
    try:
        link = _load(token)
    except LinkRefused as error:
        return _refused(error)
    form = ProblemForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        report_problem(link, form.description.data or "", form.contact_phone.data)
    except InvalidInput as error:
        db.session.rollback()
        return _job_page(link, status=422, problem_form=form, errors=error.details["errors"])
    db.session.commit()
    with force_locale(_language(link.work_order.customer.preferred_locale)):
        flash(_("Thank you. We will look into it and get back to you."), "success")
    return redirect(url_for("customer.job_page", token=token))


@bp.get("/r/<token>/completion-sheet.pdf")
def completion_sheet_download(token: str) -> Response:
    """Send the signed completion sheet of the customer's order, byte for byte."""
    try:
        link = _load(token)
    except LinkRefused as error:
        return _refused(error)
    sheet = completion_sheet(link.work_order)
    if sheet is None:
        abort(404)
    from server.services.completion_sheets import sheet_bytes, sheet_filename

    response = FlaskResponse(sheet_bytes(sheet, blob_store()), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{sheet_filename(sheet)}"'
    db.session.commit()
    return response


@bp.get("/r/<token>/technician.jpg")
def technician_photo(token: str) -> Response:
    """Send the photo of the technician on the way, while the page shows it; else 404."""
    try:
        link = _load(token)
    except LinkRefused as error:
        return _refused(error)
    order, technician = link.work_order, link.work_order.assignee
    # The page's own rule decides: the photo goes out exactly when the page shows it.
    shown = describe_order_for_customer(order, "en").technician_photo
    photo = technician_photo_bytes(technician, blob_store()) if shown and technician else None
    db.session.commit()  # last_used_at
    if photo is None:
        abort(404)
    response = FlaskResponse(photo, mimetype=PORTRAIT_CONTENT_TYPE)
    # Private: the URL carries the link's token. Five minutes: the photo is only shown for
    # the length of a trip, and a replaced photo shows within that.
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- The public request form ----------------------------------------------------------------


def _request_form_page(form: RequestForm, status: int, errors: dict[str, list[str]]) -> Response:
    language = _language()
    categories = public_categories()
    form.category_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(c.id), c.name(language)) for c in categories
    ]
    return _render("customer/request/form.html", language, status=status, form=form, errors=errors)


@bp.route("/request", methods=["GET", "POST"])
@accepts_body(PUBLIC_REQUEST_BODY)
@limiter.limit(REQUEST_LIMIT, key_func=client_address, methods=["POST"])
def request_form() -> Response:
    """Show the public request form and open a work order from it."""
    form = RequestForm()
    if request.method == "GET":
        return _request_form_page(form, 200, {})
    if not form.validate_on_submit():
        abort(400)
    language = _language()
    if (form.website.data or "").strip():
        # A bot filled the field people never see: answer as if all went well, keep nothing.
        log.info("public request form: honeypot filled, request dropped")
        return _render(
            "customer/request/thanks.html", language, status=201, number=None, page_url=None
        )
    files = [
        IncomingFile(upload.filename or "", upload.mimetype or "", upload.read())
        for upload in request.files.getlist(form.photos.name)
        if upload and upload.filename
    ]
    data = {
        "category_id": form.category_id.data,
        "description": form.description.data,
        "name": form.name.data,
        "phone": form.phone.data,
        "email": form.email.data,
        "address": form.address.data,
        "locale": language,
    }
    try:
        order = submit_public_request(data, files, blob_store())
    except InvalidInput as error:
        db.session.rollback()
        return _request_form_page(form, 422, error.details["errors"])
    link = issue_customer_link(order, None)
    number = order.number
    db.session.commit()
    return _render(
        "customer/request/thanks.html",
        language,
        status=201,
        number=number,
        page_url=url_for("customer.job_page", token=link.token),
    )
