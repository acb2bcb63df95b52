"""Texts the engine itself says (errors, navigation, menus), in every supported language.

A service may override any of them in its definition under `texts:`. Dzongkha strings are
drafts awaiting review by a native speaker; English is the fallback for anything missing.
"""

from __future__ import annotations

from typing import Final

BUILTIN_TEXTS: Final[dict[str, dict[str, str]]] = {
    "required": {"en": "Please enter an answer.", "dz": "ལན་ཅིག་བཙུགས་གནང་།"},
    "too_short": {"en": "Please enter at least {{ min }} characters."},
    "too_long": {"en": "Please enter at most {{ max }} characters."},
    "pattern": {"en": "That answer is not in the expected form."},
    "not_a_number": {"en": "Please enter a number, e.g. 12."},
    "not_integer": {"en": "Please enter a whole number."},
    "too_many_decimals": {"en": "Please enter at most {{ decimals }} digits after the point."},
    "number_too_small": {"en": "Please enter a number of at least {{ min }}."},
    "number_too_large": {"en": "Please enter a number of at most {{ max }}."},
    "bad_date": {"en": "Please enter a date as {{ format }}, e.g. {{ example }}."},
    "date_too_early": {"en": "Please enter a date on or after {{ min }}."},
    "date_too_late": {"en": "Please enter a date on or before {{ max }}."},
    "bad_phone": {"en": "Please enter a valid mobile number, e.g. {{ example }}."},
    "bad_cid": {"en": "A citizenship ID has exactly 11 digits. Please try again."},
    "bad_choice": {"en": "Please reply with one of the numbers shown."},
    "bad_yes_no": {"en": "Please reply 1 for Yes or 2 for No."},
    "yes": {"en": "Yes", "dz": "ཨིན།"},
    "no": {"en": "No", "dz": "མེན།"},
    "continue": {"en": "Continue"},
    "start_again": {"en": "Start again"},
    "resume_question": {"en": "You have an unfinished application: {{ service.title }}. Continue?"},
    "resumed": {"en": "Continuing your unfinished application: {{ service.title }}."},
    "more": {"en": "More"},
    "back": {"en": "Back"},
    "confirm": {"en": "Confirm"},
    "edit": {"en": "Change an answer"},
    "choose_field": {"en": "Which answer do you want to change?"},
    "menu_title": {"en": "Government services. Choose one:"},
    "no_services": {"en": "No service is available right now. Please try again later."},
    "choose_language": {"en": "Choose your language:"},
    "language": {"en": "Language"},
    "help": {
        "en": "Reply with your answer or the number of a choice. 0 Back, 00 Main menu, STOP to end."
    },
    "opted_out": {
        "en": "You will receive no more messages from this service. Reply START to receive "
        "them again."
    },
    "opted_in": {"en": "Welcome back. Send any message to start."},
    "goodbye": {"en": "Goodbye. Dial again any time.", "dz": "བཀྲིན་ཆེ།"},
    "ended": {"en": "This conversation has ended. Send any message to start again."},
    "lookup_failed": {"en": "We could not check that right now."},
    "unavailable": {"en": "The service is temporarily unavailable, please try again later."},
    "my_applications": {"en": "My applications"},
    "applications": {"en": "Your applications:"},
    "no_applications": {"en": "You have no applications yet."},
    "status_issued": {"en": "issued"},
    "status_pending": {"en": "under review"},
    "status_approved": {"en": "approved"},
    "status_rejected": {"en": "not approved"},
    "document_ready": {"en": "{{ title }} {{ reference }}:"},
    "approved": {"en": "Your application {{ reference }} is approved."},
    "approved_document": {"en": "Your application {{ reference }} is approved. {{ title }}:"},
    "rejected": {"en": "Your application {{ reference }} is not approved: {{ reason }}"},
    # An officer returned an application for correction: the message that says so, and
    # the notice above the first question to correct.
    "returned": {
        "en": "Your application {{ reference }} needs a correction: {{ note }} "
        "Dial or reply to correct it."
    },
    "correction_asked": {"en": "Please correct application {{ reference }}: {{ note }}"},
    # Said when an application goes to an officer (a submit step's `acknowledgement`).
    "review_received": {
        "en": "Application {{ submission.reference }} received. An officer will review it "
        "and we will send you the decision. Send STATUS to follow it."
    },
    "greeting": {"en": "Kuzuzangpo!", "dz": "ཀུ་ཟུ་ཟང་པོ།"},
    "not_understood": {"en": "Sorry, I did not understand that."},
    "did_you_mean": {"en": "Did you mean: {{ title }}?"},
    "switch_service": {"en": "Start {{ title }} instead? Your answers here will be lost."},
    "confirm_stop": {"en": "Do you want to stop this application?"},
    "prefilled": {"en": "{{ label }}: {{ value }}\nIs that right?"},
    # Proving a number on the web chat and Telegram (a code by SMS).
    "verify_number": {
        "en": "To continue, enter your mobile number. We will send it a 6-digit code by SMS."
    },
    "verify_code": {"en": "Enter the 6-digit code we sent to {{ phone }}."},
    "send_new_code": {"en": "Send a new code"},
    "other_number": {"en": "Use another number"},
    "code_sent_again": {"en": "We sent a new code."},
    "bad_code": {"en": "The code has 6 digits."},
    "code_wrong": {"en": "That code is not right. {{ tries }} tries left."},
    "code_expired": {"en": "That code can no longer be used. Choose 1 for a new code."},
    "codes_too_many": {"en": "Too many codes were asked for. Please try again later."},
    "number_not_allowed": {"en": "We cannot send a code to that number. Enter another one."},
    "codes_unavailable": {"en": "We cannot send codes right now. Please try again later."},
    "verified": {"en": "Thank you, your number is confirmed."},
    "code_sms": {
        "en": "{{ code }} is your code for government services. It expires in 5 minutes. "
        "Never share it."
    },
    # Limits, opt-outs and numbers the deployment does not serve.
    "application_limit": {
        "en": "You have made too many applications for this service lately. "
        "Please contact the office."
    },
    "link_held": {"en": "You opted out of SMS: send START to get your link."},
    "too_fast": {"en": "You are sending messages too quickly. Please wait a minute."},
    "not_available": {"en": "This service is not available for your number."},
}

# Words that select "yes" / "no" in any language, besides the option numbers.
YES_WORDS: Final[frozenset[str]] = frozenset(
    {"yes", "y", "yeah", "yep", "ok", "okay", "true", "ཨིན", "ཨིན།", "ha", "la"}
)
NO_WORDS: Final[frozenset[str]] = frozenset({"no", "n", "nope", "false", "མེན", "མེན།", "men"})

# Messages that are just one of these words opt out of (or back into) every message from
# the gateway on SMS and WhatsApp, before anything else reads them: the words carriers
# and messaging providers honour (CTIA), and their equivalents in each service language.
OPT_OUT_WORDS: Final[dict[str, frozenset[str]]] = {
    "en": frozenset(
        {
            "stop",
            "stopall",
            "stop all",
            "unsubscribe",
            "cancel",
            "end",
            "quit",
            "optout",
            "opt out",
            "revoke",
        }
    ),
    "dz": frozenset({"བཀག", "མཚམས་འཇོག", "ཕྱིར་འཐེན", "ཆ་མེད", "kag", "tsham jog"}),
}
OPT_IN_WORDS: Final[dict[str, frozenset[str]]] = {
    "en": frozenset({"start", "unstop", "subscribe", "optin", "opt in"}),
    "dz": frozenset({"འགོ་བཙུགས", "go tsug"}),
}
