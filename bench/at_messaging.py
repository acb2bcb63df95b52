"""Africa's Talking's messaging API as the benches fake it on loopback: its answer to a
send (`POST /version1/messaging`, form `username`, `to`, `message`), which the gateway's
SMS sender reads for the message id and the status of each recipient."""

from __future__ import annotations

from typing import Any

PATH = "/version1/messaging"


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
