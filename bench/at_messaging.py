"""Africa's Talking's messaging API as the benches fake it on loopback: its answer to a
send (`POST /version1/messaging`, form `username`, `to`, `message`), which the gateway's
SMS sender reads for the message id and the status of each recipient."""

from __future__ import annotations

from typing import Any

PATH = "/version1/messaging"
# The settings a bench that sends SMS through the fake gives the gateway, with `url(port)`.
# The outbound budgets would hold back SMS past 120 a minute to a number range, 600 to the
# country and 1,200 in all: a bench sends hundreds a minute on purpose (its numbers share
# one or two ranges) to measure the gateway, not the budgets. The budget per number stays
# as deployed.
SENDING = {
    "GATEWAY_AT_API_KEY": "atsk_bench_7f3a9c2e5b1d",  # a secret has 16 characters at least
    "GATEWAY_BUDGET_PER_RANGE": "100000/minute;1000000/day",
    "GATEWAY_BUDGET_PER_COUNTRY": "100000/minute;1000000/day",
    "GATEWAY_BUDGET_TOTAL": "100000/minute;1000000/day",
}


def url(port: int) -> str:
    """`GATEWAY_AT_SMS_URL` for the fake listening on `port`."""
    return f"http://127.0.0.1:{port}{PATH}"


def sent(to: str, message_id: str) -> dict[str, Any]:
    """The API's answer (201) when the message went to `to`."""
    return {
        "SMSMessageData": {
            "Message": "Sent to 1/1",
            "Recipients": [
                {
                    "statusCode": 101,
                    "number": to,
                    "status": "Success",
                    "cost": "BTN 0.50",
                    "messageId": message_id,
                }
            ],
        }
    }
