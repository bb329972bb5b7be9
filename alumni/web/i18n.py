"""The words of every page, in each language the office writes to alumni in, and dates by Babel.

A page is in the alum's language (``Alumnus.locale``) when the link says who they are, chosen
like the email templates choose theirs (``pt-BR``, then ``pt``, then ``en``: the same
``locale_candidates``); otherwise (a damaged link, a page that does not exist) in the first
language of the browser's ``Accept-Language`` that we have, else English.

Every language has every key (``tests/web/test_i18n.py`` checks it, placeholders included).
Strings are plain text: the page templates escape them. Arabic (``ar``) is written right to
left: ``Words.direction`` is the page's ``dir`` (``alumni.messages.locale_format``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from alumni.messages.locale_format import format_day, text_direction
from alumni.messages.rendering import locale_candidates

__all__ = ["DEFAULT", "LOCALES", "WORDS", "Words", "accepted_locale", "page_locale", "words_for"]

DEFAULT: Final = "en"

_EN = {
    # Links that cannot be used
    "link_broken": "This link does not work",
    "damaged": "this link is damaged or incomplete: copy the whole link from the email",
    "expired": "this link expired on {date}; ask for a new one",
    "sorry": "Sorry: {reason}. Nothing was changed.",
    "page_expired_title": "This link has expired",
    "page_expired": (
        "This link expired on {date}, so nothing was changed. The same link in our most recent "
        "email works, or write to us at {email}."
    ),
    "nobody_title": "Nothing to do",
    "nobody": "This link no longer leads to anyone on our lists, so there is nothing to show.",
    # Forms
    "form_stale_title": "Please send the form again",
    "form_stale": (
        "This form was open too long, or did not come from this page, so nothing was changed. "
        "Reload the page and send it again."
    ),
    "fix_fields": "Please correct what is marked below. Nothing was saved.",
    # Error pages
    "not_found_title": "Nothing here",
    "not_found": (
        "This address does not lead to a page: if you followed a link, check that you copied "
        "the whole link."
    ),
    "method_title": "This page cannot be used that way",
    "method": "Open the link from the email in your web browser.",
    "unreadable_title": "This request could not be read",
    "unreadable": "Open the link from the email in your web browser again.",
    "server_title": "Something went wrong on our side",
    "server": (
        "Please try the link again in a few minutes. If it still does not work, please let "
        "{office} know."
    ),
    "link_gone": "This post's link has been taken down.",
    # Unsubscribe
    "unsub_title": "Stop news and event emails to {address}?",
    "unsub_text": "You will still hear from us about requests you make yourself.",
    "unsub_button": "Unsubscribe",
    "unsub_rather": "Rather choose how often we write, or pause for a while?",
    "unsub_preferences": "Open your preferences",
    "unsub_done_title": "You are unsubscribed",
    "unsub_done": "We will send no more news or events.",
    "unsub_again_title": "Already unsubscribed",
    "unsub_again": "We had already stopped them.",
    "unsub_gone": (
        "This link no longer leads to an address on our lists, so there is nothing to do."
    ),
    # RSVP
    "rsvp_yes": "Yes, I will come",
    "rsvp_no": "No, I cannot come",
    "rsvp_maybe": "Maybe",
    "rsvp_confirm": "Confirm your answer:",
    "rsvp_when": "When",
    "rsvp_where": "Where",
    "rsvp_online": "Online",
    "rsvp_current": "Your answer so far: {answer}.",
    "rsvp_saved": "Thank you: we recorded your answer ({answer}).",
    "rsvp_waitlisted": (
        "The event is full: you are on the waitlist, and we will write to you if a place frees up."
    ),
    "rsvp_cancelled": "This event is cancelled, so there is nothing to answer.",
    "rsvp_not_open": "This event does not take answers yet; nothing was recorded.",
    "rsvp_failed": (
        "We could not record your answer, and nothing was changed. Please reply to the "
        "invitation email instead."
    ),
    "rsvp_gone": "This invitation is no longer on our lists.",
    # Preferences
    "pref_title": "Your email preferences",
    "pref_intro": (
        "{name}, choose how we keep in touch. Messages about your own requests always come."
    ),
    "pref_channels": "How we may write to you",
    "channel_email": "Email",
    "channel_mastodon": "Mastodon (direct message)",
    "pref_frequency": "How often",
    "freq_every": "Every message",
    "freq_digest": "A monthly digest of news (event invitations still come one by one)",
    "freq_own_requests": "Only about my own requests",
    "pref_pause": "Pause",
    "pref_pause_label": "Send me nothing until",
    "pref_pause_hint": "We write again from this day on. Leave it empty for no pause.",
    "pref_paused_now": "Paused until {date}.",
    "pref_save": "Save my preferences",
    "pref_saved": "Your preferences are saved.",
    "err_channel": "Choose among the channels listed.",
    "err_frequency": "Choose one of the options.",
    "err_date": "Write the date as YYYY-MM-DD, for example {example}.",
    "err_date_past": "Choose a day after today.",
    "err_date_far": (
        "Choose a day within a year from today, or choose “Only about my own requests”."
    ),
    # Contact details
    "det_title": "Are these still your details?",
    "det_intro": "{name}, confirm each detail that is still right, or correct it.",
    "det_place": "As far as we know, you live in {place}.",
    "det_none": "We have no contact details for you on file.",
    "kind_email": "Email",
    "kind_phone": "Phone",
    "kind_mastodon": "Mastodon",
    "kind_bluesky": "Bluesky",
    "new_email": "New email address",
    "new_phone": "New phone number",
    "new_mastodon": "New Mastodon handle",
    "new_bluesky": "New Bluesky handle",
    "det_confirmed_on": "Last confirmed on {date}.",
    "det_never": "Not confirmed yet.",
    "det_confirm": "Yes, this is right",
    "det_correct": "Save the correction",
    "det_saved_confirmed": "Thank you: you confirmed this detail.",
    "det_saved_corrected": "Thank you: we keep the new detail from now on.",
    "det_changed": (
        "This detail was changed since you opened the page, so nothing was changed. Here are "
        "your details as they are now."
    ),
    "err_empty": "Write the new value, or choose “Yes, this is right” if it has not changed.",
    "err_email": "This is not an email address we can use. Write it like name@example.org.",
    "err_phone": (
        "This is not a phone number we can use. Write it with its country code, like "
        "+44 20 7946 0958."
    ),
    "err_mastodon": "This is not a Mastodon handle. Write it like @name@mastodon.social.",
    "err_bluesky": "This is not a Bluesky handle. Write it like name.bsky.social.",
    # The request form
    "req_title": "Ask us for something",
    "req_intro": (
        "{name}, tell us what you need. Every request gets an answer, and you can follow yours "
        "on its own page."
    ),
    "req_type": "What do you need?",
    "req_summary": "Tell us about it",
    "req_summary_hint": "Up to {limit} characters.",
    "req_whom": "For a job introduction: whom would you like to meet?",
    "req_whom_hint": "A company, a field or a person. Needed for a job introduction.",
    "req_deadline": "Do you need it by a certain day?",
    "req_deadline_hint": "Leave it empty if there is no deadline.",
    "req_send": "Send my request",
    "err_type": "Choose what you need.",
    "err_summary_empty": "Tell us in a few words what you need.",
    "err_too_long": "Write at most {limit} characters (you wrote {length}).",
    "err_whom": "Tell us whom you would like to meet: a company, a field or a person.",
    "err_deadline_past": "Choose today or a later day.",
    "err_deadline_far": "Choose a day within two years from today.",
    # The status page of a request
    "st_title": "Your request number {number}",
    "st_saved": "Thank you: we have your request, and we have sent you an email saying so.",
    "st_type": "Request",
    "st_status": "Where it stands",
    "status_open": "Received: we will answer soon",
    "status_in_progress": "We are working on it",
    "status_waiting": "We are waiting for your answer",
    "status_closed": "Closed",
    "outcome_resolved": "Closed: done",
    "outcome_declined": "Closed: we could not do it",
    "outcome_withdrawn": "Closed: withdrawn",
    "st_sent_on": "Sent on",
    "st_answer_by": "We will answer by",
    "st_write_by": "We will write again by",
    "st_done_by": "To be done by",
    "st_your_deadline": "You need it by",
    "st_closed_on": "Closed on",
    "st_asked": "What you asked",
    "st_confidential": (
        "This request is confidential: what you wrote is read only by the officers named for "
        "it, so it is not shown here."
    ),
    "st_replies": "What we wrote to you",
    "st_no_replies": "We have not written to you about it yet.",
    "st_decision": "Our decision",
    "decision_accepted": "We will take up your idea.",
    "decision_planned": "We plan to take up your idea later.",
    "decision_declined": "We will not take up your idea.",
    "st_ask_more": "Ask us for something else",
    # The tip form and the consent question (alumni.web.tip_form)
    "tip_title": "Help us find a classmate",
    "tip_intro": (
        "{name}, we have lost touch with these classmates of yours. If you know how to reach one "
        "of them, tell us: an officer checks every tip, and we only write to them once, to ask "
        "whether they want to hear from us."
    ),
    "tip_none": "We know how to reach every one of your classmates. Thank you for wanting to help.",
    "tip_who": "Whom do you know how to reach?",
    "tip_choose": "Choose a classmate",
    "tip_kind": "How can we reach them?",
    "tip_value": "Their address, number or handle",
    "tip_how": "How do you know it?",
    "tip_how_hint": "For example: we work together; they gave it to me last year.",
    "tip_send": "Send the tip",
    "tip_saved": "Thank you: an officer will check your tip before anything is done with it.",
    "tip_already": (
        "You have already told us about this classmate. Thank you: an officer is looking at it."
    ),
    "err_tip_who": "Choose the classmate from the list.",
    "err_tip_value": "Write how to reach them.",
    "err_tip_how": "Say in a few words how you know it.",
    "consent_title": "Would you like to hear from us?",
    "consent_intro": (
        "{name}, would you like to hear from us: news of your class, reunions and events? We will"
        " not write again unless you say yes."
    ),
    "consent_yes": "Yes, keep me posted",
    "consent_no": "No, thank you",
    "consent_saved_yes": "Thank you: we are glad to be back in touch.",
    "consent_saved_no": "Thank you for telling us: we will not write to you.",
    "amb_title": "Class of {year}: your ambassador's page",
    "amb_intro": (
        "Hello {name}, thank you for speaking for your class. This page is yours alone: "
        "please do not forward its link."
    ),
    "amb_events": "Coming events",
    "amb_no_events": "No events are planned yet.",
    "amb_reach": "Whom we can reach",
    "amb_reach_text": (
        "We can reach {reachable} of {contactable} classmates ({percent}%): {email} by "
        "email, {social} on social networks. {unreachable} have no working contact."
    ),
    "amb_reached": "In the last 12 months, {reached} of the {contactable} heard from us.",
    "amb_lost": "Classmates we cannot reach",
    "amb_lost_hint": (
        "If you know how to reach one of them, tell us on the tip form. We ask them "
        "before we use anything, and we never show anyone's contact details here."
    ),
    "amb_tip_link": "Tell us how to reach someone",
    "amb_no_lost": "We can reach everyone in your class.",
    "amb_ideas": "Your class's ideas",
    "amb_no_ideas": "No ideas yet.",
    "amb_propose": "Propose an event or an idea",
    "amb_kind": "What is it?",
    "amb_kind_event": "An event",
    "amb_kind_idea": "An idea",
    "amb_idea_text": "What do you propose?",
    "amb_idea_send": "Send to the office",
    "amb_drafts": "Messages you drafted",
    "amb_draft": "Draft a message to your class",
    "amb_draft_hint": "The office reads and approves it before anything is sent.",
    "amb_draft_name": "Title",
    "amb_draft_template": "Kind of message",
    "amb_template_newsletter": "News",
    "amb_template_reunion": "Reunion",
    "amb_draft_send_on": "Not before this day (optional)",
    "amb_draft_send_at": "At this time on each classmate's clock, like 09:30 (optional)",
    "amb_draft_send": "Save the draft",
    "amb_draft_waiting": "Waiting for the office's approval",
    "amb_draft_approved": "Approved by the office",
    "amb_withdraw": "Withdraw",
    "amb_saved_idea": "Thank you: the office has your proposal and will answer.",
    "amb_saved_draft": "Saved: the office will review your draft.",
    "amb_saved_withdrawn": "The draft was withdrawn.",
    "amb_err_kind": "Choose an event or an idea.",
    "amb_err_empty": "Please write something here.",
    "amb_err_template": "Choose one of the kinds of message.",
    "amb_err_time": "Write the time as HH:MM, for example 09:30.",
    "amb_err_day_past": "Choose today or a later day.",
    "amb_gone_title": "This page is no longer yours",
    "amb_gone": (
        "This link belongs to an ambassador role that has ended, so there is nothing to "
        "do here. Write to {email} if this is a mistake."
    ),
    "amb_scope_title": "Not your class",
    "amb_scope": "This belongs to another class than yours, so nothing was changed.",
    "join_title": "Stay in touch with your classmates",
    "join_intro": (
        "{name} invited you to join the alumni of the class of {year}. Tell us who you "
        "are: we email you once to confirm your address, and nothing else until you do."
    ),
    "join_first": "First name",
    "join_last": "Last name",
    "join_year": "Class year (the year you graduated)",
    "join_email": "Email address",
    "join_consent": "Send me news and events of my class (you can stop any time)",
    "join_send": "Sign up",
    "join_err_name": "Give your first or last name.",
    "join_err_year": "Give a year from {first} to {last}.",
    "join_err_email": "Give a working email address, like name@example.org.",
    "join_sent_title": "Check your email",
    "join_sent": "We have emailed you a link. Open it within {days} days to confirm your address.",
    "join_confirm_title": "Confirm your address",
    "join_confirm_text": "Confirm that {email} is yours to join the class of {year}.",
    "join_confirm_button": "Confirm",
    "join_done_title": "Welcome",
    "join_done": "Your address is confirmed: you are on the list of the class of {year}.",
    "join_refused_title": "We could not add you",
    "join_refused": "We could not add you with these details. Please write to {email}.",
}

_ES = {
    "link_broken": "Este enlace no funciona",
    "damaged": "el enlace está dañado o incompleto: copia el enlace entero del correo",
    "expired": "este enlace caducó el {date}; pide uno nuevo",
    "sorry": "Lo sentimos: {reason}. No se ha cambiado nada.",
    "page_expired_title": "Este enlace ha caducado",
    "page_expired": (
        "Este enlace caducó el {date}, así que no se ha cambiado nada. El mismo enlace de "
        "nuestro correo más reciente funciona, o escríbenos a {email}."
    ),
    "nobody_title": "No hay nada que hacer",
    "nobody": (
        "Este enlace ya no lleva a nadie de nuestras listas, así que no hay nada que mostrar."
    ),
    "form_stale_title": "Envía el formulario de nuevo",
    "form_stale": (
        "El formulario estuvo abierto demasiado tiempo o no venía de esta página, así que no se "
        "ha cambiado nada. Vuelve a cargar la página y envíalo de nuevo."
    ),
    "fix_fields": "Corrige lo que está marcado abajo. No se ha guardado nada.",
    "not_found_title": "Aquí no hay nada",
    "not_found": (
        "Esta dirección no lleva a ninguna página: si seguiste un enlace, comprueba que lo "
        "copiaste entero."
    ),
    "method_title": "Esta página no se puede usar así",
    "method": "Abre el enlace del correo en tu navegador.",
    "unreadable_title": "No pudimos leer esta petición",
    "unreadable": "Vuelve a abrir el enlace del correo en tu navegador.",
    "server_title": "Algo ha fallado por nuestra parte",
    "server": (
        "Vuelve a probar el enlace dentro de unos minutos. Si sigue sin funcionar, avisa a "
        "{office}."
    ),
    "link_gone": "El enlace de esta publicación ya no está disponible.",
    "unsub_title": "¿Dejar de enviar noticias y eventos a {address}?",
    "unsub_text": "Seguirás recibiendo nuestras respuestas sobre las solicitudes que hagas tú.",
    "unsub_button": "Darme de baja",
    "unsub_rather": "¿Prefieres elegir cada cuánto te escribimos, o hacer una pausa?",
    "unsub_preferences": "Abrir tus preferencias",
    "unsub_done_title": "Te has dado de baja",
    "unsub_done": "No te enviaremos más noticias ni eventos.",
    "unsub_again_title": "Ya estabas dado de baja",
    "unsub_again": "Ya habíamos dejado de enviarlos.",
    "unsub_gone": (
        "Este enlace ya no lleva a ninguna dirección de nuestras listas, así que no hay nada "
        "que hacer."
    ),
    "rsvp_yes": "Sí, iré",
    "rsvp_no": "No, no puedo ir",
    "rsvp_maybe": "Quizás",
    "rsvp_confirm": "Confirma tu respuesta:",
    "rsvp_when": "Cuándo",
    "rsvp_where": "Dónde",
    "rsvp_online": "En línea",
    "rsvp_current": "Tu respuesta hasta ahora: {answer}.",
    "rsvp_saved": "Gracias: hemos registrado tu respuesta ({answer}).",
    "rsvp_waitlisted": (
        "El evento está completo: estás en la lista de espera y te escribiremos si se libera "
        "una plaza."
    ),
    "rsvp_cancelled": "Este evento se ha cancelado, así que no hay nada que responder.",
    "rsvp_not_open": "Este evento todavía no acepta respuestas; no se ha registrado nada.",
    "rsvp_failed": (
        "No pudimos registrar tu respuesta y no se ha cambiado nada. Responde al correo de la "
        "invitación, por favor."
    ),
    "rsvp_gone": "Esta invitación ya no está en nuestras listas.",
    "pref_title": "Tus preferencias de correo",
    "pref_intro": (
        "{name}, elige cómo seguimos en contacto. Los mensajes sobre tus propias solicitudes "
        "llegan siempre."
    ),
    "pref_channels": "Por dónde podemos escribirte",
    "channel_email": "Correo electrónico",
    "channel_mastodon": "Mastodon (mensaje directo)",
    "pref_frequency": "Con qué frecuencia",
    "freq_every": "Todos los mensajes",
    "freq_digest": "Un resumen mensual de noticias (las invitaciones a eventos llegan aparte)",
    "freq_own_requests": "Solo sobre mis propias solicitudes",
    "pref_pause": "Pausa",
    "pref_pause_label": "No enviarme nada hasta el",
    "pref_pause_hint": (
        "Volvemos a escribirte a partir de ese día. Déjalo vacío si no quieres pausa."
    ),
    "pref_paused_now": "En pausa hasta el {date}.",
    "pref_save": "Guardar mis preferencias",
    "pref_saved": "Tus preferencias están guardadas.",
    "err_channel": "Elige entre los canales de la lista.",
    "err_frequency": "Elige una de las opciones.",
    "err_date": "Escribe la fecha como AAAA-MM-DD, por ejemplo {example}.",
    "err_date_past": "Elige un día posterior a hoy.",
    "err_date_far": (
        "Elige un día dentro de un año a partir de hoy, o elige «Solo sobre mis propias "
        "solicitudes»."
    ),
    "det_title": "¿Siguen siendo tus datos?",
    "det_intro": "{name}, confirma cada dato que siga siendo correcto, o corrígelo.",
    "det_place": "Según nuestros datos, vives en {place}.",
    "det_none": "No tenemos datos de contacto tuyos.",
    "kind_email": "Correo electrónico",
    "kind_phone": "Teléfono",
    "kind_mastodon": "Mastodon",
    "kind_bluesky": "Bluesky",
    "new_email": "Nueva dirección de correo",
    "new_phone": "Nuevo número de teléfono",
    "new_mastodon": "Nuevo usuario de Mastodon",
    "new_bluesky": "Nuevo usuario de Bluesky",
    "det_confirmed_on": "Confirmado por última vez el {date}.",
    "det_never": "Aún sin confirmar.",
    "det_confirm": "Sí, es correcto",
    "det_correct": "Guardar la corrección",
    "det_saved_confirmed": "Gracias: has confirmado este dato.",
    "det_saved_corrected": "Gracias: a partir de ahora usamos el dato nuevo.",
    "det_changed": (
        "Este dato cambió después de abrir la página, así que no se ha cambiado nada. Estos son "
        "tus datos tal como están ahora."
    ),
    "err_empty": "Escribe el valor nuevo, o elige «Sí, es correcto» si no ha cambiado.",
    "err_email": (
        "Esta no es una dirección de correo que podamos usar. Escríbela como nombre@example.org."
    ),
    "err_phone": (
        "Este no es un número de teléfono que podamos usar. Escríbelo con el prefijo del país, "
        "como +34 912 345 678."
    ),
    "err_mastodon": "Este no es un usuario de Mastodon. Escríbelo como @nombre@mastodon.social.",
    "err_bluesky": "Este no es un usuario de Bluesky. Escríbelo como nombre.bsky.social.",
    "req_title": "Pídenos algo",
    "req_intro": (
        "{name}, cuéntanos qué necesitas. Todas las solicitudes reciben respuesta, y puedes "
        "seguir la tuya en su propia página."
    ),
    "req_type": "¿Qué necesitas?",
    "req_summary": "Cuéntanoslo",
    "req_summary_hint": "Hasta {limit} caracteres.",
    "req_whom": "Para una presentación para un empleo: ¿a quién te gustaría conocer?",
    "req_whom_hint": "Una empresa, un sector o una persona. Necesario para una presentación.",
    "req_deadline": "¿Lo necesitas antes de algún día?",
    "req_deadline_hint": "Déjalo vacío si no hay fecha límite.",
    "req_send": "Enviar mi solicitud",
    "err_type": "Elige lo que necesitas.",
    "err_summary_empty": "Cuéntanos en pocas palabras lo que necesitas.",
    "err_too_long": "Escribe como máximo {limit} caracteres (has escrito {length}).",
    "err_whom": "Dinos a quién te gustaría conocer: una empresa, un sector o una persona.",
    "err_deadline_past": "Elige hoy o un día posterior.",
    "err_deadline_far": "Elige un día dentro de los próximos dos años.",
    "st_title": "Tu solicitud número {number}",
    "st_saved": (
        "Gracias: hemos recibido tu solicitud y te hemos enviado un correo para confirmarlo."
    ),
    "st_type": "Solicitud",
    "st_status": "En qué punto está",
    "status_open": "Recibida: te responderemos pronto",
    "status_in_progress": "Estamos trabajando en ella",
    "status_waiting": "Esperamos tu respuesta",
    "status_closed": "Cerrada",
    "outcome_resolved": "Cerrada: resuelta",
    "outcome_declined": "Cerrada: no pudimos hacerlo",
    "outcome_withdrawn": "Cerrada: retirada",
    "st_sent_on": "Enviada el",
    "st_answer_by": "Te responderemos antes del",
    "st_write_by": "Volveremos a escribirte antes del",
    "st_done_by": "Resuelta antes del",
    "st_your_deadline": "La necesitas antes del",
    "st_closed_on": "Cerrada el",
    "st_asked": "Lo que nos pediste",
    "st_confidential": (
        "Esta solicitud es confidencial: solo leen lo que escribiste las personas designadas "
        "para ello, así que no se muestra aquí."
    ),
    "st_replies": "Lo que te escribimos",
    "st_no_replies": "Todavía no te hemos escrito sobre ella.",
    "st_decision": "Nuestra decisión",
    "decision_accepted": "Vamos a llevar a cabo tu idea.",
    "decision_planned": "Tenemos previsto llevar a cabo tu idea más adelante.",
    "decision_declined": "No vamos a llevar a cabo tu idea.",
    "st_ask_more": "Pedirnos otra cosa",
    # The tip form and the consent question (alumni.web.tip_form)
    "tip_title": "Ayúdanos a encontrar a un compañero",
    "tip_intro": (
        "{name}, hemos perdido el contacto con estos compañeros tuyos. Si sabes cómo localizar a "
        "alguno, dínoslo: una persona de la oficina revisa cada aviso, y solo les escribimos una "
        "vez, para preguntarles si quieren saber de nosotros."
    ),
    "tip_none": "Sabemos cómo localizar a todos tus compañeros. Gracias por querer ayudar.",
    "tip_who": "¿A quién sabes cómo localizar?",
    "tip_choose": "Elige a un compañero",
    "tip_kind": "¿Cómo podemos localizarle?",
    "tip_value": "Su dirección, número o usuario",
    "tip_how": "¿Cómo lo sabes?",
    "tip_how_hint": "Por ejemplo: trabajamos juntos; me lo dio el año pasado.",
    "tip_send": "Enviar el aviso",
    "tip_saved": "Gracias: una persona de la oficina revisará tu aviso antes de hacer nada con él.",
    "tip_already": "Ya nos hablaste de este compañero. Gracias: la oficina lo está revisando.",
    "err_tip_who": "Elige al compañero de la lista.",
    "err_tip_value": "Escribe cómo localizarle.",
    "err_tip_how": "Di en pocas palabras cómo lo sabes.",
    "consent_title": "¿Quieres saber de nosotros?",
    "consent_intro": (
        "{name}, ¿quieres saber de nosotros: noticias de tu promoción, reencuentros y eventos? No"
        " volveremos a escribirte si no dices que sí."
    ),
    "consent_yes": "Sí, quiero estar al día",
    "consent_no": "No, gracias",
    "consent_saved_yes": "Gracias: nos alegra volver a estar en contacto.",
    "consent_saved_no": "Gracias por decírnoslo: no te escribiremos.",
    "amb_title": "Promoción de {year}: tu página de embajador",
    "amb_intro": (
        "Hola, {name}: gracias por hablar en nombre de tu promoción. Esta página es solo "
        "para ti: no reenvíes su enlace."
    ),
    "amb_events": "Próximos eventos",
    "amb_no_events": "Todavía no hay eventos previstos.",
    "amb_reach": "A quién podemos contactar",
    "amb_reach_text": (
        "Podemos contactar a {reachable} de {contactable} compañeros ({percent} %): "
        "{email} por correo, {social} en redes sociales. {unreachable} no tienen ningún "
        "contacto que funcione."
    ),
    "amb_reached": "En los últimos 12 meses, {reached} de los {contactable} supieron de nosotros.",
    "amb_lost": "Compañeros a los que no podemos contactar",
    "amb_lost_hint": (
        "Si sabes cómo contactar a alguno, cuéntanoslo en el formulario de pistas. Les "
        "preguntamos antes de usar nada, y aquí nunca mostramos los datos de nadie."
    ),
    "amb_tip_link": "Dinos cómo contactar a alguien",
    "amb_no_lost": "Podemos contactar a toda tu promoción.",
    "amb_ideas": "Las ideas de tu promoción",
    "amb_no_ideas": "Todavía no hay ideas.",
    "amb_propose": "Propón un evento o una idea",
    "amb_kind": "¿Qué es?",
    "amb_kind_event": "Un evento",
    "amb_kind_idea": "Una idea",
    "amb_idea_text": "¿Qué propones?",
    "amb_idea_send": "Enviar a la oficina",
    "amb_drafts": "Mensajes que has redactado",
    "amb_draft": "Redacta un mensaje para tu promoción",
    "amb_draft_hint": "La oficina lo lee y lo aprueba antes de enviar nada.",
    "amb_draft_name": "Título",
    "amb_draft_template": "Tipo de mensaje",
    "amb_template_newsletter": "Noticias",
    "amb_template_reunion": "Reencuentro",
    "amb_draft_send_on": "No antes de este día (opcional)",
    "amb_draft_send_at": "A esta hora en el reloj de cada compañero, como 09:30 (opcional)",
    "amb_draft_send": "Guardar el borrador",
    "amb_draft_waiting": "Esperando la aprobación de la oficina",
    "amb_draft_approved": "Aprobado por la oficina",
    "amb_withdraw": "Retirar",
    "amb_saved_idea": "Gracias: la oficina tiene tu propuesta y te responderá.",
    "amb_saved_draft": "Guardado: la oficina revisará tu borrador.",
    "amb_saved_withdrawn": "El borrador se ha retirado.",
    "amb_err_kind": "Elige un evento o una idea.",
    "amb_err_empty": "Escribe algo aquí.",
    "amb_err_template": "Elige uno de los tipos de mensaje.",
    "amb_err_time": "Escribe la hora como HH:MM, por ejemplo 09:30.",
    "amb_err_day_past": "Elige hoy o un día posterior.",
    "amb_gone_title": "Esta página ya no es tuya",
    "amb_gone": (
        "Este enlace pertenece a un papel de embajador que ha terminado, así que aquí no "
        "hay nada que hacer. Escribe a {email} si es un error."
    ),
    "amb_scope_title": "No es tu promoción",
    "amb_scope": "Esto pertenece a otra promoción, así que no se ha cambiado nada.",
    "join_title": "Mantente en contacto con tus compañeros",
    "join_intro": (
        "{name} te invita a unirte a los antiguos alumnos de la promoción de {year}. "
        "Dinos quién eres: te escribimos una vez para confirmar tu dirección, y nada más "
        "hasta que lo hagas."
    ),
    "join_first": "Nombre",
    "join_last": "Apellidos",
    "join_year": "Promoción (el año en que te graduaste)",
    "join_email": "Correo electrónico",
    "join_consent": (
        "Enviadme noticias y eventos de mi promoción (puedo darme de baja cuando quiera)"
    ),
    "join_send": "Apuntarme",
    "join_err_name": "Escribe tu nombre o tus apellidos.",
    "join_err_year": "Escribe un año de {first} a {last}.",
    "join_err_email": "Escribe una dirección de correo que funcione, como nombre@example.org.",
    "join_sent_title": "Mira tu correo",
    "join_sent": "Te hemos enviado un enlace. Ábrelo en {days} días para confirmar tu dirección.",
    "join_confirm_title": "Confirma tu dirección",
    "join_confirm_text": "Confirma que {email} es tuya para unirte a la promoción de {year}.",
    "join_confirm_button": "Confirmar",
    "join_done_title": "Bienvenida, bienvenido",
    "join_done": "Tu dirección está confirmada: ya estás en la lista de la promoción de {year}.",
    "join_refused_title": "No hemos podido apuntarte",
    "join_refused": "No hemos podido apuntarte con estos datos. Escribe a {email}.",
}

_FR = {
    "link_broken": "Ce lien ne fonctionne pas",
    "damaged": "ce lien est abîmé ou incomplet : copiez le lien entier depuis le message",
    "expired": "ce lien a expiré le {date} ; demandez-en un nouveau",
    "sorry": "Désolés : {reason}. Rien n’a été modifié.",
    "page_expired_title": "Ce lien a expiré",
    "page_expired": (
        "Ce lien a expiré le {date}, donc rien n’a été modifié. Le même lien dans notre "
        "message le plus récent fonctionne, ou écrivez-nous à {email}."
    ),
    "nobody_title": "Rien à faire",
    "nobody": "Ce lien ne mène plus à personne sur nos listes, il n’y a donc rien à afficher.",
    "form_stale_title": "Merci de renvoyer le formulaire",
    "form_stale": (
        "Ce formulaire est resté ouvert trop longtemps, ou ne venait pas de cette page : rien "
        "n’a été modifié. Rechargez la page et renvoyez-le."
    ),
    "fix_fields": "Merci de corriger ce qui est signalé ci-dessous. Rien n’a été enregistré.",
    "not_found_title": "Rien ici",
    "not_found": (
        "Cette adresse ne mène à aucune page : si vous avez suivi un lien, vérifiez que vous "
        "l’avez copié en entier."
    ),
    "method_title": "Cette page ne s’utilise pas ainsi",
    "method": "Ouvrez le lien du message dans votre navigateur.",
    "unreadable_title": "Cette demande n’a pas pu être lue",
    "unreadable": "Ouvrez à nouveau le lien du message dans votre navigateur.",
    "server_title": "Un problème est survenu de notre côté",
    "server": (
        "Réessayez le lien dans quelques minutes. S’il ne fonctionne toujours pas, prévenez "
        "{office}."
    ),
    "link_gone": "Le lien de cette publication a été retiré.",
    "unsub_title": "Ne plus envoyer d’actualités ni d’événements à {address} ?",
    "unsub_text": "Vous recevrez toujours nos réponses aux demandes que vous faites vous-même.",
    "unsub_button": "Me désabonner",
    "unsub_rather": "Préférez-vous choisir la fréquence de nos messages, ou faire une pause ?",
    "unsub_preferences": "Ouvrir vos préférences",
    "unsub_done_title": "Vous êtes désabonné",
    "unsub_done": "Nous ne vous enverrons plus d’actualités ni d’événements.",
    "unsub_again_title": "Déjà désabonné",
    "unsub_again": "Nous avions déjà arrêté ces envois.",
    "unsub_gone": "Ce lien ne mène plus à aucune adresse de nos listes : il n’y a rien à faire.",
    "rsvp_yes": "Oui, je viendrai",
    "rsvp_no": "Non, je ne peux pas venir",
    "rsvp_maybe": "Peut-être",
    "rsvp_confirm": "Confirmez votre réponse :",
    "rsvp_when": "Quand",
    "rsvp_where": "Où",
    "rsvp_online": "En ligne",
    "rsvp_current": "Votre réponse jusqu’ici : {answer}.",
    "rsvp_saved": "Merci : nous avons enregistré votre réponse ({answer}).",
    "rsvp_waitlisted": (
        "L’événement est complet : vous êtes sur la liste d’attente, et nous vous écrirons si "
        "une place se libère."
    ),
    "rsvp_cancelled": "Cet événement est annulé : il n’y a rien à répondre.",
    "rsvp_not_open": "Cet événement ne prend pas encore de réponses ; rien n’a été enregistré.",
    "rsvp_failed": (
        "Nous n’avons pas pu enregistrer votre réponse, et rien n’a été modifié. Répondez "
        "plutôt au message d’invitation."
    ),
    "rsvp_gone": "Cette invitation n’est plus sur nos listes.",
    "pref_title": "Vos préférences de messages",
    "pref_intro": (
        "{name}, choisissez comment nous restons en contact. Les messages sur vos propres "
        "demandes arrivent toujours."
    ),
    "pref_channels": "Comment nous pouvons vous écrire",
    "channel_email": "Courriel",
    "channel_mastodon": "Mastodon (message direct)",
    "pref_frequency": "À quelle fréquence",
    "freq_every": "Tous les messages",
    "freq_digest": (
        "Un résumé mensuel des actualités (les invitations aux événements arrivent à part)"
    ),
    "freq_own_requests": "Seulement au sujet de mes propres demandes",
    "pref_pause": "Pause",
    "pref_pause_label": "Ne rien m’envoyer jusqu’au",
    "pref_pause_hint": (
        "Nous vous écrivons de nouveau à partir de ce jour. Laissez vide pour ne pas faire de "
        "pause."
    ),
    "pref_paused_now": "En pause jusqu’au {date}.",
    "pref_save": "Enregistrer mes préférences",
    "pref_saved": "Vos préférences sont enregistrées.",
    "err_channel": "Choisissez parmi les moyens proposés.",
    "err_frequency": "Choisissez l’une des options.",
    "err_date": "Écrivez la date sous la forme AAAA-MM-JJ, par exemple {example}.",
    "err_date_past": "Choisissez un jour après aujourd’hui.",
    "err_date_far": (
        "Choisissez un jour dans l’année qui vient, ou choisissez « Seulement au sujet de mes "
        "propres demandes »."
    ),
    "det_title": "Ces coordonnées sont-elles toujours les vôtres ?",
    "det_intro": "{name}, confirmez chaque coordonnée toujours valable, ou corrigez-la.",
    "det_place": "D’après nos fiches, vous habitez ici : {place}.",
    "det_none": "Nous n’avons aucune coordonnée pour vous.",
    "kind_email": "Courriel",
    "kind_phone": "Téléphone",
    "kind_mastodon": "Mastodon",
    "kind_bluesky": "Bluesky",
    "new_email": "Nouvelle adresse de courriel",
    "new_phone": "Nouveau numéro de téléphone",
    "new_mastodon": "Nouvel identifiant Mastodon",
    "new_bluesky": "Nouvel identifiant Bluesky",
    "det_confirmed_on": "Confirmée pour la dernière fois le {date}.",
    "det_never": "Pas encore confirmée.",
    "det_confirm": "Oui, c’est exact",
    "det_correct": "Enregistrer la correction",
    "det_saved_confirmed": "Merci : vous avez confirmé cette coordonnée.",
    "det_saved_corrected": "Merci : nous utilisons désormais la nouvelle coordonnée.",
    "det_changed": (
        "Cette coordonnée a changé depuis l’ouverture de la page : rien n’a été modifié. Voici "
        "vos coordonnées telles qu’elles sont maintenant."
    ),
    "err_empty": (
        "Écrivez la nouvelle valeur, ou choisissez « Oui, c’est exact » si elle n’a pas changé."
    ),
    "err_email": (
        "Ce n’est pas une adresse de courriel utilisable. Écrivez-la comme nom@example.org."
    ),
    "err_phone": (
        "Ce n’est pas un numéro de téléphone utilisable. Écrivez-le avec l’indicatif du pays, "
        "comme +33 1 23 45 67 89."
    ),
    "err_mastodon": "Ce n’est pas un identifiant Mastodon. Écrivez-le comme @nom@mastodon.social.",
    "err_bluesky": "Ce n’est pas un identifiant Bluesky. Écrivez-le comme nom.bsky.social.",
    "req_title": "Nous demander quelque chose",
    "req_intro": (
        "{name}, dites-nous ce dont vous avez besoin. Chaque demande reçoit une réponse, et "
        "vous pouvez suivre la vôtre sur sa propre page."
    ),
    "req_type": "De quoi avez-vous besoin ?",
    "req_summary": "Expliquez-nous",
    "req_summary_hint": "{limit} caractères au plus.",
    "req_whom": "Pour une mise en relation : qui aimeriez-vous rencontrer ?",
    "req_whom_hint": (
        "Une entreprise, un domaine ou une personne. Nécessaire pour une mise en relation."
    ),
    "req_deadline": "Vous le faut-il pour une date précise ?",
    "req_deadline_hint": "Laissez vide s’il n’y a pas d’échéance.",
    "req_send": "Envoyer ma demande",
    "err_type": "Choisissez ce dont vous avez besoin.",
    "err_summary_empty": "Dites-nous en quelques mots ce dont vous avez besoin.",
    "err_too_long": "Écrivez {limit} caractères au plus (vous en avez écrit {length}).",
    "err_whom": (
        "Dites-nous qui vous aimeriez rencontrer : une entreprise, un domaine ou une personne."
    ),
    "err_deadline_past": "Choisissez aujourd’hui ou un jour plus tard.",
    "err_deadline_far": "Choisissez un jour dans les deux ans qui viennent.",
    "st_title": "Votre demande numéro {number}",
    "st_saved": (
        "Merci : nous avons bien reçu votre demande, et nous vous l’avons confirmé par courriel."
    ),
    "st_type": "Demande",
    "st_status": "Où elle en est",
    "status_open": "Reçue : nous vous répondrons bientôt",
    "status_in_progress": "Nous y travaillons",
    "status_waiting": "Nous attendons votre réponse",
    "status_closed": "Close",
    "outcome_resolved": "Close : traitée",
    "outcome_declined": "Close : nous n’avons pas pu y donner suite",
    "outcome_withdrawn": "Close : retirée",
    "st_sent_on": "Envoyée le",
    "st_answer_by": "Nous répondrons au plus tard le",
    "st_write_by": "Nous vous écrirons de nouveau au plus tard le",
    "st_done_by": "À traiter au plus tard le",
    "st_your_deadline": "Il vous la faut pour le",
    "st_closed_on": "Close le",
    "st_asked": "Votre demande",
    "st_confidential": (
        "Cette demande est confidentielle : seules les personnes désignées lisent ce que vous "
        "avez écrit, qui n’est donc pas affiché ici."
    ),
    "st_replies": "Ce que nous vous avons écrit",
    "st_no_replies": "Nous ne vous avons pas encore écrit à ce sujet.",
    "st_decision": "Notre décision",
    "decision_accepted": "Nous allons mettre votre idée en œuvre.",
    "decision_planned": "Nous prévoyons de mettre votre idée en œuvre plus tard.",
    "decision_declined": "Nous n’allons pas mettre votre idée en œuvre.",
    "st_ask_more": "Nous demander autre chose",
    # The tip form and the consent question (alumni.web.tip_form)
    "tip_title": "Aidez-nous à retrouver un camarade",
    "tip_intro": (
        "{name}, nous avons perdu le contact avec ces camarades de votre promotion. Si vous savez"
        " comment joindre l’un d’eux, dites-le-nous : un membre du bureau vérifie chaque "
        "indication, et nous ne leur écrivons qu’une fois, pour leur demander s’ils souhaitent "
        "avoir de nos nouvelles."
    ),
    "tip_none": "Nous savons comment joindre tous vos camarades. Merci de vouloir aider.",
    "tip_who": "Qui savez-vous joindre ?",
    "tip_choose": "Choisissez un camarade",
    "tip_kind": "Comment pouvons-nous le joindre ?",
    "tip_value": "Son adresse, son numéro ou son identifiant",
    "tip_how": "Comment le savez-vous ?",
    "tip_how_hint": "Par exemple : nous travaillons ensemble ; il me l’a donné l’an dernier.",
    "tip_send": "Envoyer l’indication",
    "tip_saved": (
        "Merci : un membre du bureau vérifiera votre indication avant d’en faire quoi que ce soit."
    ),
    "tip_already": "Vous nous avez déjà parlé de ce camarade. Merci : le bureau s’en occupe.",
    "err_tip_who": "Choisissez le camarade dans la liste.",
    "err_tip_value": "Écrivez comment le joindre.",
    "err_tip_how": "Dites en quelques mots comment vous le savez.",
    "consent_title": "Souhaitez-vous avoir de nos nouvelles ?",
    "consent_intro": (
        "{name}, souhaitez-vous avoir de nos nouvelles : celles de votre promotion, les "
        "retrouvailles et les événements ? Nous ne vous écrirons plus si vous ne dites pas oui."
    ),
    "consent_yes": "Oui, tenez-moi informé",
    "consent_no": "Non, merci",
    "consent_saved_yes": "Merci : nous sommes heureux de reprendre contact.",
    "consent_saved_no": "Merci de nous l’avoir dit : nous ne vous écrirons pas.",
    "amb_title": "Promotion {year} : votre page d’ambassadeur",
    "amb_intro": (
        "Bonjour {name}, merci de représenter votre promotion. Cette page n’est qu’à vous "
        ": ne transférez pas son lien."
    ),
    "amb_events": "Événements à venir",
    "amb_no_events": "Aucun événement n’est encore prévu.",
    "amb_reach": "Qui nous pouvons joindre",
    "amb_reach_text": (
        "Nous pouvons joindre {reachable} camarades sur {contactable} ({percent} %) : "
        "{email} par e-mail, {social} sur les réseaux sociaux. {unreachable} n’ont aucun "
        "contact qui fonctionne."
    ),
    "amb_reached": "Ces 12 derniers mois, {reached} sur {contactable} ont eu de nos nouvelles.",
    "amb_lost": "Camarades que nous ne pouvons pas joindre",
    "amb_lost_hint": (
        "Si vous savez comment joindre l’un d’eux, dites-le-nous sur le formulaire. Nous "
        "leur demandons avant d’utiliser quoi que ce soit, et nous ne montrons ici les "
        "coordonnées de personne."
    ),
    "amb_tip_link": "Dites-nous comment joindre quelqu’un",
    "amb_no_lost": "Nous pouvons joindre toute votre promotion.",
    "amb_ideas": "Les idées de votre promotion",
    "amb_no_ideas": "Pas encore d’idées.",
    "amb_propose": "Proposer un événement ou une idée",
    "amb_kind": "De quoi s’agit-il ?",
    "amb_kind_event": "Un événement",
    "amb_kind_idea": "Une idée",
    "amb_idea_text": "Que proposez-vous ?",
    "amb_idea_send": "Envoyer au bureau",
    "amb_drafts": "Messages que vous avez rédigés",
    "amb_draft": "Rédiger un message à votre promotion",
    "amb_draft_hint": "Le bureau le lit et l’approuve avant tout envoi.",
    "amb_draft_name": "Titre",
    "amb_draft_template": "Type de message",
    "amb_template_newsletter": "Nouvelles",
    "amb_template_reunion": "Retrouvailles",
    "amb_draft_send_on": "Pas avant ce jour (facultatif)",
    "amb_draft_send_at": "À cette heure, chez chaque camarade, par exemple 09:30 (facultatif)",
    "amb_draft_send": "Enregistrer le brouillon",
    "amb_draft_waiting": "En attente de l’approbation du bureau",
    "amb_draft_approved": "Approuvé par le bureau",
    "amb_withdraw": "Retirer",
    "amb_saved_idea": "Merci : le bureau a reçu votre proposition et vous répondra.",
    "amb_saved_draft": "Enregistré : le bureau relira votre brouillon.",
    "amb_saved_withdrawn": "Le brouillon a été retiré.",
    "amb_err_kind": "Choisissez un événement ou une idée.",
    "amb_err_empty": "Écrivez quelque chose ici.",
    "amb_err_template": "Choisissez l’un des types de message.",
    "amb_err_time": "Écrivez l’heure sous la forme HH:MM, par exemple 09:30.",
    "amb_err_day_past": "Choisissez aujourd’hui ou un jour suivant.",
    "amb_gone_title": "Cette page n’est plus la vôtre",
    "amb_gone": (
        "Ce lien appartient à un rôle d’ambassadeur qui a pris fin : il n’y a rien à "
        "faire ici. Écrivez à {email} s’il s’agit d’une erreur."
    ),
    "amb_scope_title": "Pas votre promotion",
    "amb_scope": "Ceci appartient à une autre promotion : rien n’a été modifié.",
    "join_title": "Gardez le contact avec vos camarades",
    "join_intro": (
        "{name} vous invite à rejoindre les anciens de la promotion {year}. Dites-nous "
        "qui vous êtes : nous vous écrivons une fois pour confirmer votre adresse, et "
        "rien d’autre avant."
    ),
    "join_first": "Prénom",
    "join_last": "Nom",
    "join_year": "Promotion (l’année de votre diplôme)",
    "join_email": "Adresse e-mail",
    "join_consent": (
        "Envoyez-moi les nouvelles et événements de ma promotion (à arrêter quand je veux)"
    ),
    "join_send": "M’inscrire",
    "join_err_name": "Indiquez votre prénom ou votre nom.",
    "join_err_year": "Indiquez une année de {first} à {last}.",
    "join_err_email": "Indiquez une adresse e-mail valide, comme nom@example.org.",
    "join_sent_title": "Consultez vos e-mails",
    "join_sent": (
        "Nous vous avons envoyé un lien. Ouvrez-le sous {days} jours pour confirmer votre adresse."
    ),
    "join_confirm_title": "Confirmez votre adresse",
    "join_confirm_text": "Confirmez que {email} est à vous pour rejoindre la promotion {year}.",
    "join_confirm_button": "Confirmer",
    "join_done_title": "Bienvenue",
    "join_done": "Votre adresse est confirmée : vous êtes sur la liste de la promotion {year}.",
    "join_refused_title": "Nous n’avons pas pu vous inscrire",
    "join_refused": "Nous n’avons pas pu vous inscrire avec ces informations. Écrivez à {email}.",
}

_PT_BR = {
    "link_broken": "Este link não funciona",
    "damaged": "este link está danificado ou incompleto: copie o link inteiro do e-mail",
    "expired": "este link expirou em {date}; peça um novo",
    "sorry": "Desculpe: {reason}. Nada foi alterado.",
    "page_expired_title": "Este link expirou",
    "page_expired": (
        "Este link expirou em {date}, então nada foi alterado. O mesmo link no nosso e-mail "
        "mais recente funciona, ou escreva para {email}."
    ),
    "nobody_title": "Nada a fazer",
    "nobody": "Este link não leva mais a ninguém das nossas listas, então não há nada a mostrar.",
    "form_stale_title": "Envie o formulário de novo",
    "form_stale": (
        "O formulário ficou aberto tempo demais, ou não veio desta página, então nada foi "
        "alterado. Recarregue a página e envie de novo."
    ),
    "fix_fields": "Corrija o que está marcado abaixo. Nada foi salvo.",
    "not_found_title": "Nada aqui",
    "not_found": (
        "Este endereço não leva a nenhuma página: se você seguiu um link, confira se copiou o "
        "link inteiro."
    ),
    "method_title": "Esta página não pode ser usada assim",
    "method": "Abra o link do e-mail no seu navegador.",
    "unreadable_title": "Não conseguimos ler este pedido",
    "unreadable": "Abra de novo o link do e-mail no seu navegador.",
    "server_title": "Algo deu errado do nosso lado",
    "server": (
        "Tente o link de novo daqui a alguns minutos. Se ainda não funcionar, avise {office}."
    ),
    "link_gone": "O link desta publicação foi retirado.",
    "unsub_title": "Parar de enviar notícias e eventos para {address}?",
    "unsub_text": "Você continuará recebendo nossas respostas sobre os pedidos que fizer.",
    "unsub_button": "Cancelar inscrição",
    "unsub_rather": "Prefere escolher com que frequência escrevemos, ou fazer uma pausa?",
    "unsub_preferences": "Abrir suas preferências",
    "unsub_done_title": "Sua inscrição foi cancelada",
    "unsub_done": "Não enviaremos mais notícias nem eventos.",
    "unsub_again_title": "Inscrição já cancelada",
    "unsub_again": "Já tínhamos parado de enviá-los.",
    "unsub_gone": (
        "Este link não leva mais a nenhum endereço das nossas listas, então não há nada a fazer."
    ),
    "rsvp_yes": "Sim, eu vou",
    "rsvp_no": "Não, não posso ir",
    "rsvp_maybe": "Talvez",
    "rsvp_confirm": "Confirme sua resposta:",
    "rsvp_when": "Quando",
    "rsvp_where": "Onde",
    "rsvp_online": "On-line",
    "rsvp_current": "Sua resposta até agora: {answer}.",
    "rsvp_saved": "Obrigado: registramos sua resposta ({answer}).",
    "rsvp_waitlisted": (
        "O evento está lotado: você está na lista de espera, e escreveremos se abrir uma vaga."
    ),
    "rsvp_cancelled": "Este evento foi cancelado, então não há nada a responder.",
    "rsvp_not_open": "Este evento ainda não aceita respostas; nada foi registrado.",
    "rsvp_failed": (
        "Não conseguimos registrar sua resposta, e nada foi alterado. Responda ao e-mail do "
        "convite, por favor."
    ),
    "rsvp_gone": "Este convite não está mais nas nossas listas.",
    "pref_title": "Suas preferências de e-mail",
    "pref_intro": (
        "{name}, escolha como mantemos contato. Mensagens sobre seus próprios pedidos sempre "
        "chegam."
    ),
    "pref_channels": "Por onde podemos escrever para você",
    "channel_email": "E-mail",
    "channel_mastodon": "Mastodon (mensagem direta)",
    "pref_frequency": "Com que frequência",
    "freq_every": "Todas as mensagens",
    "freq_digest": "Um resumo mensal de notícias (convites para eventos chegam separados)",
    "freq_own_requests": "Só sobre meus próprios pedidos",
    "pref_pause": "Pausa",
    "pref_pause_label": "Não me enviar nada até",
    "pref_pause_hint": "Voltamos a escrever a partir desse dia. Deixe vazio para não pausar.",
    "pref_paused_now": "Em pausa até {date}.",
    "pref_save": "Salvar minhas preferências",
    "pref_saved": "Suas preferências foram salvas.",
    "err_channel": "Escolha entre os canais da lista.",
    "err_frequency": "Escolha uma das opções.",
    "err_date": "Escreva a data como AAAA-MM-DD, por exemplo {example}.",
    "err_date_past": "Escolha um dia depois de hoje.",
    "err_date_far": (
        "Escolha um dia dentro de um ano a partir de hoje, ou escolha “Só sobre meus próprios "
        "pedidos”."
    ),
    "det_title": "Estes ainda são seus dados?",
    "det_intro": "{name}, confirme cada dado que ainda estiver certo, ou corrija-o.",
    "det_place": "Pelos nossos registros, você mora em {place}.",
    "det_none": "Não temos nenhum dado de contato seu.",
    "kind_email": "E-mail",
    "kind_phone": "Telefone",
    "kind_mastodon": "Mastodon",
    "kind_bluesky": "Bluesky",
    "new_email": "Novo endereço de e-mail",
    "new_phone": "Novo número de telefone",
    "new_mastodon": "Novo usuário do Mastodon",
    "new_bluesky": "Novo usuário do Bluesky",
    "det_confirmed_on": "Confirmado pela última vez em {date}.",
    "det_never": "Ainda não confirmado.",
    "det_confirm": "Sim, está certo",
    "det_correct": "Salvar a correção",
    "det_saved_confirmed": "Obrigado: você confirmou este dado.",
    "det_saved_corrected": "Obrigado: de agora em diante usamos o dado novo.",
    "det_changed": (
        "Este dado mudou depois que você abriu a página, então nada foi alterado. Estes são "
        "seus dados como estão agora."
    ),
    "err_empty": "Escreva o valor novo, ou escolha “Sim, está certo” se ele não mudou.",
    "err_email": (
        "Este não é um endereço de e-mail que possamos usar. Escreva como nome@example.org."
    ),
    "err_phone": (
        "Este não é um número de telefone que possamos usar. Escreva com o código do país, "
        "como +55 11 91234 5678."
    ),
    "err_mastodon": "Este não é um usuário do Mastodon. Escreva como @nome@mastodon.social.",
    "err_bluesky": "Este não é um usuário do Bluesky. Escreva como nome.bsky.social.",
    "req_title": "Peça algo para nós",
    "req_intro": (
        "{name}, conte do que você precisa. Todo pedido recebe resposta, e você pode "
        "acompanhar o seu na página dele."
    ),
    "req_type": "Do que você precisa?",
    "req_summary": "Conte para nós",
    "req_summary_hint": "Até {limit} caracteres.",
    "req_whom": "Para uma indicação para um emprego: quem você gostaria de conhecer?",
    "req_whom_hint": "Uma empresa, uma área ou uma pessoa. Necessário para uma indicação.",
    "req_deadline": "Você precisa disso até algum dia?",
    "req_deadline_hint": "Deixe vazio se não houver prazo.",
    "req_send": "Enviar meu pedido",
    "err_type": "Escolha do que você precisa.",
    "err_summary_empty": "Conte em poucas palavras do que você precisa.",
    "err_too_long": "Escreva no máximo {limit} caracteres (você escreveu {length}).",
    "err_whom": "Diga quem você gostaria de conhecer: uma empresa, uma área ou uma pessoa.",
    "err_deadline_past": "Escolha hoje ou um dia depois.",
    "err_deadline_far": "Escolha um dia dentro dos próximos dois anos.",
    "st_title": "Seu pedido número {number}",
    "st_saved": "Obrigado: recebemos seu pedido e enviamos um e-mail confirmando.",
    "st_type": "Pedido",
    "st_status": "Em que pé está",
    "status_open": "Recebido: responderemos em breve",
    "status_in_progress": "Estamos trabalhando nele",
    "status_waiting": "Aguardamos sua resposta",
    "status_closed": "Encerrado",
    "outcome_resolved": "Encerrado: concluído",
    "outcome_declined": "Encerrado: não conseguimos atender",
    "outcome_withdrawn": "Encerrado: retirado",
    "st_sent_on": "Enviado em",
    "st_answer_by": "Responderemos até",
    "st_write_by": "Voltaremos a escrever até",
    "st_done_by": "Concluído até",
    "st_your_deadline": "Você precisa até",
    "st_closed_on": "Encerrado em",
    "st_asked": "O que você pediu",
    "st_confidential": (
        "Este pedido é confidencial: só as pessoas designadas leem o que você escreveu, por "
        "isso não aparece aqui."
    ),
    "st_replies": "O que escrevemos para você",
    "st_no_replies": "Ainda não escrevemos sobre ele.",
    "st_decision": "Nossa decisão",
    "decision_accepted": "Vamos colocar sua ideia em prática.",
    "decision_planned": "Planejamos colocar sua ideia em prática mais adiante.",
    "decision_declined": "Não vamos colocar sua ideia em prática.",
    "st_ask_more": "Pedir outra coisa",
    # The tip form and the consent question (alumni.web.tip_form)
    "tip_title": "Ajude-nos a encontrar um colega",
    "tip_intro": (
        "{name}, perdemos o contato com estes colegas da sua turma. Se você sabe como encontrar "
        "algum deles, conte para nós: alguém do escritório confere cada dica, e só escrevemos a "
        "eles uma vez, para perguntar se querem ter notícias nossas."
    ),
    "tip_none": "Sabemos como encontrar todos os seus colegas. Obrigado por querer ajudar.",
    "tip_who": "Quem você sabe como encontrar?",
    "tip_choose": "Escolha um colega",
    "tip_kind": "Como podemos encontrá-lo?",
    "tip_value": "O endereço, número ou usuário",
    "tip_how": "Como você sabe?",
    "tip_how_hint": "Por exemplo: trabalhamos juntos; ele me passou no ano passado.",
    "tip_send": "Enviar a dica",
    "tip_saved": (
        "Obrigado: alguém do escritório vai conferir sua dica antes de fazer qualquer coisa com "
        "ela."
    ),
    "tip_already": "Você já nos falou deste colega. Obrigado: o escritório está cuidando disso.",
    "err_tip_who": "Escolha o colega na lista.",
    "err_tip_value": "Escreva como encontrá-lo.",
    "err_tip_how": "Diga em poucas palavras como você sabe.",
    "consent_title": "Você quer ter notícias nossas?",
    "consent_intro": (
        "{name}, você quer ter notícias nossas: da sua turma, de reencontros e eventos? Não "
        "voltaremos a escrever se você não disser sim."
    ),
    "consent_yes": "Sim, quero receber notícias",
    "consent_no": "Não, obrigado",
    "consent_saved_yes": "Obrigado: que bom voltar a ter contato.",
    "consent_saved_no": "Obrigado por nos avisar: não vamos escrever para você.",
    "amb_title": "Turma de {year}: sua página de embaixador",
    "amb_intro": (
        "Olá, {name}, obrigado por falar pela sua turma. Esta página é só sua: não "
        "encaminhe o link dela."
    ),
    "amb_events": "Próximos eventos",
    "amb_no_events": "Ainda não há eventos previstos.",
    "amb_reach": "Quem conseguimos contatar",
    "amb_reach_text": (
        "Conseguimos contatar {reachable} de {contactable} colegas ({percent}%): {email} "
        "por e-mail, {social} nas redes sociais. {unreachable} não têm nenhum contato que "
        "funcione."
    ),
    "amb_reached": "Nos últimos 12 meses, {reached} dos {contactable} tiveram notícias nossas.",
    "amb_lost": "Colegas que não conseguimos contatar",
    "amb_lost_hint": (
        "Se você sabe como contatar algum deles, conte-nos no formulário de dicas. "
        "Perguntamos a eles antes de usar qualquer coisa, e nunca mostramos aqui os "
        "contatos de ninguém."
    ),
    "amb_tip_link": "Diga-nos como contatar alguém",
    "amb_no_lost": "Conseguimos contatar toda a sua turma.",
    "amb_ideas": "As ideias da sua turma",
    "amb_no_ideas": "Ainda não há ideias.",
    "amb_propose": "Proponha um evento ou uma ideia",
    "amb_kind": "O que é?",
    "amb_kind_event": "Um evento",
    "amb_kind_idea": "Uma ideia",
    "amb_idea_text": "O que você propõe?",
    "amb_idea_send": "Enviar ao escritório",
    "amb_drafts": "Mensagens que você redigiu",
    "amb_draft": "Redija uma mensagem para a sua turma",
    "amb_draft_hint": "O escritório lê e aprova antes de qualquer envio.",
    "amb_draft_name": "Título",
    "amb_draft_template": "Tipo de mensagem",
    "amb_template_newsletter": "Notícias",
    "amb_template_reunion": "Reencontro",
    "amb_draft_send_on": "Não antes deste dia (opcional)",
    "amb_draft_send_at": "Neste horário no relógio de cada colega, como 09:30 (opcional)",
    "amb_draft_send": "Salvar o rascunho",
    "amb_draft_waiting": "Aguardando a aprovação do escritório",
    "amb_draft_approved": "Aprovado pelo escritório",
    "amb_withdraw": "Retirar",
    "amb_saved_idea": "Obrigado: o escritório recebeu sua proposta e vai responder.",
    "amb_saved_draft": "Salvo: o escritório vai revisar seu rascunho.",
    "amb_saved_withdrawn": "O rascunho foi retirado.",
    "amb_err_kind": "Escolha um evento ou uma ideia.",
    "amb_err_empty": "Escreva algo aqui.",
    "amb_err_template": "Escolha um dos tipos de mensagem.",
    "amb_err_time": "Escreva o horário como HH:MM, por exemplo 09:30.",
    "amb_err_day_past": "Escolha hoje ou um dia posterior.",
    "amb_gone_title": "Esta página não é mais sua",
    "amb_gone": (
        "Este link pertence a um papel de embaixador que terminou, então não há nada a "
        "fazer aqui. Escreva para {email} se for um engano."
    ),
    "amb_scope_title": "Não é a sua turma",
    "amb_scope": "Isto pertence a outra turma, então nada foi alterado.",
    "join_title": "Mantenha contato com seus colegas",
    "join_intro": (
        "{name} convidou você para se juntar aos ex-alunos da turma de {year}. Diga-nos "
        "quem você é: escrevemos uma vez para confirmar seu endereço, e nada mais até "
        "você confirmar."
    ),
    "join_first": "Nome",
    "join_last": "Sobrenome",
    "join_year": "Turma (o ano em que você se formou)",
    "join_email": "E-mail",
    "join_consent": "Envie-me notícias e eventos da minha turma (posso parar quando quiser)",
    "join_send": "Inscrever-me",
    "join_err_name": "Informe seu nome ou sobrenome.",
    "join_err_year": "Informe um ano de {first} a {last}.",
    "join_err_email": "Informe um e-mail que funcione, como nome@example.org.",
    "join_sent_title": "Veja seu e-mail",
    "join_sent": (
        "Enviamos um link para você. Abra-o em até {days} dias para confirmar seu endereço."
    ),
    "join_confirm_title": "Confirme seu endereço",
    "join_confirm_text": "Confirme que {email} é seu para entrar na turma de {year}.",
    "join_confirm_button": "Confirmar",
    "join_done_title": "Boas-vindas",
    "join_done": "Seu endereço está confirmado: você está na lista da turma de {year}.",
    "join_refused_title": "Não conseguimos inscrever você",
    "join_refused": "Não conseguimos inscrever você com estes dados. Escreva para {email}.",
}

_AR = {
    "link_broken": "هذا الرابط لا يعمل",
    "damaged": "هذا الرابط تالف أو ناقص: انسخ الرابط كاملًا من الرسالة",
    "expired": "انتهت صلاحية هذا الرابط في {date}؛ اطلب رابطًا جديدًا",
    "sorry": "عذرًا: {reason}. لم يتغير شيء.",
    "page_expired_title": "انتهت صلاحية هذا الرابط",
    "page_expired": (
        "انتهت صلاحية هذا الرابط في {date}، لذا لم يتغير شيء. الرابط نفسه في أحدث رسالة منا "
        "يعمل، أو اكتب إلينا على {email}."
    ),
    "nobody_title": "لا شيء لفعله",
    "nobody": "لم يعد هذا الرابط يقود إلى أحد في قوائمنا، لذا لا يوجد ما نعرضه.",
    "form_stale_title": "يُرجى إرسال النموذج مرة أخرى",
    "form_stale": (
        "ظل هذا النموذج مفتوحًا مدة طويلة، أو لم يأتِ من هذه الصفحة، لذا لم يتغير شيء. "
        "أعد تحميل الصفحة وأرسله مرة أخرى."
    ),
    "fix_fields": "يُرجى تصحيح ما هو مُعلَّم أدناه. لم يُحفظ شيء.",
    "not_found_title": "لا شيء هنا",
    "not_found": (
        "هذا العنوان لا يقود إلى أي صفحة: إن كنت قد اتبعت رابطًا، فتأكد من أنك نسخته كاملًا."
    ),
    "method_title": "لا يمكن استخدام هذه الصفحة بهذه الطريقة",
    "method": "افتح الرابط الموجود في الرسالة في متصفحك.",
    "unreadable_title": "تعذّرت قراءة هذا الطلب",
    "unreadable": "افتح الرابط الموجود في الرسالة في متصفحك مرة أخرى.",
    "server_title": "حدث خطأ من جهتنا",
    "server": "يُرجى تجربة الرابط مرة أخرى بعد بضع دقائق. وإن ظل لا يعمل، فأبلغ {office}.",
    "link_gone": "أُزيل رابط هذا المنشور.",
    "unsub_title": "هل نوقف رسائل الأخبار والفعاليات إلى {address}؟",
    "unsub_text": "ستظل تصلك رسائلنا بشأن الطلبات التي تقدمها بنفسك.",
    "unsub_button": "إلغاء الاشتراك",
    "unsub_rather": "أتفضّل أن تختار عدد مرات مراسلتنا لك، أو أن تتوقف مؤقتًا؟",
    "unsub_preferences": "افتح تفضيلاتك",
    "unsub_done_title": "أُلغي اشتراكك",
    "unsub_done": "لن نرسل إليك أي أخبار أو فعاليات بعد الآن.",
    "unsub_again_title": "الاشتراك ملغى من قبل",
    "unsub_again": "كنا قد أوقفناها من قبل.",
    "unsub_gone": "لم يعد هذا الرابط يقود إلى عنوان في قوائمنا، لذا لا يوجد ما نفعله.",
    "rsvp_yes": "نعم، سأحضر",
    "rsvp_no": "لا، لا أستطيع الحضور",
    "rsvp_maybe": "ربما",
    "rsvp_confirm": "أكّد ردّك:",
    "rsvp_when": "الموعد",
    "rsvp_where": "المكان",
    "rsvp_online": "عبر الإنترنت",
    "rsvp_current": "ردّك حتى الآن: {answer}.",
    "rsvp_saved": "شكرًا لك: سجّلنا ردّك ({answer}).",
    "rsvp_waitlisted": (
        "اكتمل العدد في هذه الفعالية: أنت على قائمة الانتظار، وسنكتب إليك إذا شغر مقعد."
    ),
    "rsvp_cancelled": "أُلغيت هذه الفعالية، لذا لا يوجد ما تردّ عليه.",
    "rsvp_not_open": "لا تقبل هذه الفعالية الردود بعد؛ لم يُسجَّل شيء.",
    "rsvp_failed": ("تعذّر علينا تسجيل ردّك، ولم يتغير شيء. يُرجى الرد على رسالة الدعوة بدلًا من ذلك."),
    "rsvp_gone": "لم تعد هذه الدعوة في قوائمنا.",
    "pref_title": "تفضيلات البريد الإلكتروني",
    "pref_intro": "{name}، اختر طريقة بقائنا على تواصل. الرسائل المتعلقة بطلباتك تصلك دائمًا.",
    "pref_channels": "كيف يمكننا أن نكتب إليك",
    "channel_email": "البريد الإلكتروني",
    "channel_mastodon": "ماستودون (رسالة مباشرة)",
    "pref_frequency": "كم مرة",
    "freq_every": "كل الرسائل",
    "freq_digest": "ملخص شهري للأخبار (تظل دعوات الفعاليات تصلك كلًّا على حدة)",
    "freq_own_requests": "فقط ما يتعلق بطلباتي",
    "pref_pause": "توقف مؤقت",
    "pref_pause_label": "لا ترسلوا إليّ شيئًا حتى",
    "pref_pause_hint": "نعود إلى مراسلتك بدءًا من هذا اليوم. اتركه فارغًا إن لم ترد التوقف.",
    "pref_paused_now": "متوقف مؤقتًا حتى {date}.",
    "pref_save": "احفظ تفضيلاتي",
    "pref_saved": "حُفظت تفضيلاتك.",
    "err_channel": "اختر من القنوات المذكورة.",
    "err_frequency": "اختر أحد الخيارات.",
    "err_date": "اكتب التاريخ بالصيغة YYYY-MM-DD، مثل {example}.",
    "err_date_past": "اختر يومًا بعد اليوم.",
    "err_date_far": "اختر يومًا خلال عام من اليوم، أو اختر «فقط ما يتعلق بطلباتي».",
    "det_title": "هل ما زالت هذه بياناتك؟",
    "det_intro": "{name}، أكّد كل بيان ما زال صحيحًا، أو صحّحه.",
    "det_place": "وفق سجلاتنا، تقيم في {place}.",
    "det_none": "ليس لدينا أي بيانات اتصال خاصة بك.",
    "kind_email": "البريد الإلكتروني",
    "kind_phone": "الهاتف",
    "kind_mastodon": "ماستودون",
    "kind_bluesky": "بلوسكاي",
    "new_email": "عنوان البريد الإلكتروني الجديد",
    "new_phone": "رقم الهاتف الجديد",
    "new_mastodon": "معرّف ماستودون الجديد",
    "new_bluesky": "معرّف بلوسكاي الجديد",
    "det_confirmed_on": "آخر تأكيد في {date}.",
    "det_never": "لم يُؤكَّد بعد.",
    "det_confirm": "نعم، هذا صحيح",
    "det_correct": "احفظ التصحيح",
    "det_saved_confirmed": "شكرًا لك: أكّدت هذا البيان.",
    "det_saved_corrected": "شكرًا لك: سنعتمد البيان الجديد من الآن.",
    "det_changed": (
        "تغيّر هذا البيان منذ أن فتحت الصفحة، لذا لم يتغير شيء. هذه بياناتك كما هي الآن."
    ),
    "err_empty": "اكتب القيمة الجديدة، أو اختر «نعم، هذا صحيح» إن لم تتغير.",
    "err_email": "هذا ليس عنوان بريد إلكتروني يمكننا استخدامه. اكتبه مثل name@example.org.",
    "err_phone": (
        "هذا ليس رقم هاتف يمكننا استخدامه. اكتبه مع رمز البلد، مثل \u200e+20 2 2345 6789\u200e."
    ),
    "err_mastodon": "هذا ليس معرّف ماستودون. اكتبه مثل @name@mastodon.social.",
    "err_bluesky": "هذا ليس معرّف بلوسكاي. اكتبه مثل name.bsky.social.",
    "req_title": "اطلب منا شيئًا",
    "req_intro": "{name}، أخبرنا بما تحتاجه. كل طلب يلقى ردًّا، ويمكنك متابعة طلبك في صفحته.",
    "req_type": "ماذا تحتاج؟",
    "req_summary": "أخبرنا عنه",
    "req_summary_hint": "حتى {limit} حرف.",
    "req_whom": "للتعريف بجهة عمل: من تودّ أن تقابل؟",
    "req_whom_hint": "شركة، أو مجال، أو شخص. مطلوب للتعريف بجهة عمل.",
    "req_deadline": "هل تحتاجه بحلول يوم معيّن؟",
    "req_deadline_hint": "اتركه فارغًا إن لم يكن هناك موعد نهائي.",
    "req_send": "أرسل طلبي",
    "err_type": "اختر ما تحتاجه.",
    "err_summary_empty": "أخبرنا في كلمات قليلة بما تحتاجه.",
    "err_too_long": "اكتب {limit} حرف على الأكثر (كتبت {length}).",
    "err_whom": "أخبرنا من تودّ أن تقابل: شركة، أو مجال، أو شخص.",
    "err_deadline_past": "اختر اليوم أو يومًا لاحقًا.",
    "err_deadline_far": "اختر يومًا خلال عامين من اليوم.",
    "st_title": "طلبك رقم {number}",
    "st_saved": "شكرًا لك: استلمنا طلبك، وأرسلنا إليك رسالة بذلك.",
    "st_type": "الطلب",
    "st_status": "حالته",
    "status_open": "استُلم: سنرد قريبًا",
    "status_in_progress": "نعمل عليه",
    "status_waiting": "ننتظر ردّك",
    "status_closed": "مغلق",
    "outcome_resolved": "مغلق: أُنجز",
    "outcome_declined": "مغلق: تعذّر علينا تلبيته",
    "outcome_withdrawn": "مغلق: سُحب",
    "st_sent_on": "أُرسل في",
    "st_answer_by": "سنرد في موعد أقصاه",
    "st_write_by": "سنكتب إليك مجددًا في موعد أقصاه",
    "st_done_by": "يُنجز في موعد أقصاه",
    "st_your_deadline": "تحتاجه بحلول",
    "st_closed_on": "أُغلق في",
    "st_asked": "ما طلبته",
    "st_confidential": (
        "هذا الطلب سري: لا يقرأ ما كتبته إلا الموظفون المكلّفون به، لذا لا يظهر هنا."
    ),
    "st_replies": "ما كتبناه إليك",
    "st_no_replies": "لم نكتب إليك بشأنه بعد.",
    "st_decision": "قرارنا",
    "decision_accepted": "سنأخذ بفكرتك.",
    "decision_planned": "نعتزم الأخذ بفكرتك لاحقًا.",
    "decision_declined": "لن نأخذ بفكرتك.",
    "st_ask_more": "اطلب منا شيئًا آخر",
    "amb_title": "دفعة {year}: صفحتك بصفتك سفيرًا",
    "amb_intro": (
        "مرحبًا {name}، شكرًا لأنك تتحدث باسم دفعتك. هذه الصفحة لك وحدك: لا تُعِد إرسال رابطها."
    ),
    "amb_events": "الفعاليات القادمة",
    "amb_no_events": "لا توجد فعاليات مخطط لها بعد.",
    "amb_reach": "من نستطيع الوصول إليهم",
    "amb_reach_text": (
        "نستطيع الوصول إلى {reachable} من أصل {contactable} من زملاء الدفعة ({percent}٪): "
        "{email} بالبريد الإلكتروني، و{social} عبر الشبكات الاجتماعية. {unreachable} ليست "
        "لديهم وسيلة اتصال تعمل."
    ),
    "amb_reached": "خلال الأشهر الاثني عشر الماضية، وصلتنا أخبار {reached} من أصل {contactable}.",
    "amb_lost": "زملاء لا نستطيع الوصول إليهم",
    "amb_lost_hint": (
        "إن كنت تعرف كيف نصل إلى أحدهم، فأخبرنا في نموذج الإرشاد. نسألهم قبل أن نستخدم أي "
        "شيء، ولا نعرض هنا بيانات اتصال أي شخص."
    ),
    "amb_tip_link": "أخبرنا كيف نصل إلى شخص ما",
    "amb_no_lost": "نستطيع الوصول إلى جميع أفراد دفعتك.",
    "amb_ideas": "أفكار دفعتك",
    "amb_no_ideas": "لا توجد أفكار بعد.",
    "amb_propose": "اقترح فعالية أو فكرة",
    "amb_kind": "ما نوعها؟",
    "amb_kind_event": "فعالية",
    "amb_kind_idea": "فكرة",
    "amb_idea_text": "ماذا تقترح؟",
    "amb_idea_send": "أرسل إلى المكتب",
    "amb_drafts": "رسائل صغتها",
    "amb_draft": "صُغ رسالة إلى دفعتك",
    "amb_draft_hint": "يقرؤها المكتب ويوافق عليها قبل إرسال أي شيء.",
    "amb_draft_name": "العنوان",
    "amb_draft_template": "نوع الرسالة",
    "amb_template_newsletter": "أخبار",
    "amb_template_reunion": "لقاء الدفعة",
    "amb_draft_send_on": "ليس قبل هذا اليوم (اختياري)",
    "amb_draft_send_at": "في هذه الساعة بتوقيت كل زميل، مثل 09:30 (اختياري)",
    "amb_draft_send": "احفظ المسودة",
    "amb_draft_waiting": "بانتظار موافقة المكتب",
    "amb_draft_approved": "وافق عليها المكتب",
    "amb_withdraw": "اسحب",
    "amb_saved_idea": "شكرًا: وصل اقتراحك إلى المكتب وسيرد عليك.",
    "amb_saved_draft": "حُفظت: سيراجع المكتب مسودتك.",
    "amb_saved_withdrawn": "سُحبت المسودة.",
    "amb_err_kind": "اختر فعالية أو فكرة.",
    "amb_err_empty": "يُرجى كتابة شيء هنا.",
    "amb_err_template": "اختر أحد أنواع الرسائل.",
    "amb_err_time": "اكتب الوقت بالصيغة HH:MM، مثل 09:30.",
    "amb_err_day_past": "اختر اليوم أو يومًا لاحقًا.",
    "amb_gone_title": "لم تعد هذه الصفحة لك",
    "amb_gone": (
        "هذا الرابط يخص دور سفير انتهى، فلا شيء يمكن فعله هنا. راسلنا على {email} إن كان ذلك خطأ."
    ),
    "amb_scope_title": "ليست دفعتك",
    "amb_scope": "هذا يخص دفعة أخرى غير دفعتك، لذلك لم يتغير شيء.",
    "join_title": "ابقَ على تواصل مع زملاء دفعتك",
    "join_intro": (
        "دعاك {name} للانضمام إلى خريجي دفعة {year}. أخبرنا من أنت: نراسلك مرة واحدة "
        "لتأكيد عنوانك، ولا شيء غير ذلك حتى تؤكده."
    ),
    "join_first": "الاسم الأول",
    "join_last": "اسم العائلة",
    "join_year": "سنة الدفعة (سنة تخرجك)",
    "join_email": "البريد الإلكتروني",
    "join_consent": "أرسلوا لي أخبار دفعتي وفعالياتها (يمكنني الإيقاف في أي وقت)",
    "join_send": "سجّلني",
    "join_err_name": "اكتب اسمك الأول أو اسم عائلتك.",
    "join_err_year": "اكتب سنة من {first} إلى {last}.",
    "join_err_email": "اكتب عنوان بريد إلكتروني يعمل، مثل name@example.org.",
    "join_sent_title": "تفقّد بريدك الإلكتروني",
    "join_sent": "أرسلنا إليك رابطًا. افتحه خلال {days} أيام لتأكيد عنوانك.",
    "join_confirm_title": "أكّد عنوانك",
    "join_confirm_text": "أكّد أن {email} عنوانك للانضمام إلى دفعة {year}.",
    "join_confirm_button": "تأكيد",
    "join_done_title": "أهلًا بك",
    "join_done": "تأكد عنوانك: أنت الآن في قائمة دفعة {year}.",
    "join_refused_title": "لم نتمكن من تسجيلك",
    "join_refused": "لم نتمكن من تسجيلك بهذه البيانات. يُرجى مراسلتنا على {email}.",
    "consent_intro": (
        "{name}، هل تودّ أن تصلك أخبارنا: أخبار دفعتك ولقاءاتها وفعالياتها؟ لن نراسلك مرة "
        "أخرى ما لم تقل نعم."
    ),
    "consent_no": "لا، شكرًا",
    "consent_saved_no": "شكرًا لإخبارنا: لن نراسلك.",
    "consent_saved_yes": "شكرًا: يسعدنا أن نعود إلى التواصل معك.",
    "consent_title": "هل تودّ أن تصلك أخبارنا؟",
    "consent_yes": "نعم، أبقوني على اطلاع",
    "err_tip_how": "اذكر في كلمات قليلة كيف عرفت ذلك.",
    "err_tip_value": "اكتب كيف نصل إليه.",
    "err_tip_who": "اختر الزميل من القائمة.",
    "tip_already": "لقد أخبرتنا بالفعل عن هذا الزميل. شكرًا لك: أحد الموظفين يطّلع على ذلك.",
    "tip_choose": "اختر زميلًا",
    "tip_how": "كيف عرفت ذلك؟",
    "tip_how_hint": "مثلًا: نعمل معًا؛ أعطاني إياه في العام الماضي.",
    "tip_intro": (
        "{name}، انقطع تواصلنا مع زملاء دفعتك هؤلاء. إن كنت تعرف كيف نصل إلى أحدهم "
        "فأخبرنا: يتحقق أحد الموظفين من كل إرشاد، ولا نراسلهم إلا مرة واحدة لنسألهم إن "
        "كانوا يودّون أن تصلهم أخبارنا."
    ),
    "tip_kind": "كيف نصل إليه؟",
    "tip_none": "نعرف كيف نصل إلى كل زملاء دفعتك. شكرًا لرغبتك في المساعدة.",
    "tip_saved": "شكرًا: سيتحقق أحد الموظفين من إرشادك قبل استخدامه في أي شيء.",
    "tip_send": "أرسل الإرشاد",
    "tip_title": "ساعدنا في العثور على زميل",
    "tip_value": "عنوانه أو رقمه أو معرّفه",
    "tip_who": "من تعرف كيف نصل إليه؟",
}

WORDS: Final[dict[str, dict[str, str]]] = {
    "en": _EN,
    "es": _ES,
    "fr": _FR,
    "pt-BR": _PT_BR,
    "ar": _AR,
}
LOCALES: Final = tuple(WORDS)
_BY_LOWER = {locale.lower(): locale for locale in LOCALES}


def _ours(tag: str, default: str | None) -> str | None:
    """The first of our locales on ``tag``'s fallback path (ending with ``default``, if any)."""
    for candidate in locale_candidates(tag, default or tag):
        found = _BY_LOWER.get(candidate.lower())
        if found is not None:
            return found
    return None


def page_locale(tag: str | None) -> str:
    """The language of a page for an alum whose locale is ``tag`` (``pt-BR``, ``pt``, ``en``)."""
    return _ours(tag or DEFAULT, DEFAULT) or DEFAULT


def accepted_locale(header: str | None) -> str:
    """The language of a page for a browser that sent ``Accept-Language: header``.

    The most wanted language we have wins (``q`` weights, then the order given); else English.
    """
    ranked: list[tuple[float, int, str]] = []
    for place, item in enumerate((header or "").split(",")):
        tag, *params = (part.strip() for part in item.split(";"))
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if tag and tag != "*" and weight > 0:
            ranked.append((-weight, place, tag))
    for _, _, tag in sorted(ranked):
        found = _ours(tag, None)
        if found is not None:
            return found
    return DEFAULT


@dataclass(frozen=True)
class Words:
    """The words of one language; call it with a key (and the key's placeholders)."""

    locale: str

    def __call__(self, key: str, **values: object) -> str:
        text = WORDS[self.locale][key]
        return text.format(**values) if values else text

    def day(self, moment: date | datetime, zone: str | None = None) -> str:
        """A date written out the way this language writes it (``1 de mayo de 2025``).

        A datetime is read in ``zone`` (an IANA name; None or unknown: UTC).
        """
        return format_day(moment, self.locale, zone=zone)

    @property
    def direction(self) -> str:
        """``rtl`` for a language written right to left (Arabic), else ``ltr``: the page's
        ``dir``."""
        return text_direction(self.locale)


def words_for(locale: str) -> Words:
    """The words of ``locale``, one of ``LOCALES``.

    Raises:
        KeyError: a locale we have no words for (choose it with ``page_locale`` first).
    """
    if locale not in WORDS:
        raise KeyError(f"no page words for locale {locale!r}: use one of {', '.join(LOCALES)}")
    return Words(locale)
