"""Public constants: event types, call/connect/message states (names as in ``signalwire.relay``)."""

from __future__ import annotations

from typing import Final

from relay_proto import (
    BACKOFF_FACTOR,
    BACKOFF_MAX,
    BACKOFF_MIN,
    DEFAULT_AGENT,
    MAX_AUTH_REJECTIONS,
    RELAY_VERSION,
)

__all__ = [
    "AGENT_STRING",
    "CALL_STATES",
    "CALL_STATE_ANSWERED",
    "CALL_STATE_CREATED",
    "CALL_STATE_ENDED",
    "CALL_STATE_ENDING",
    "CALL_STATE_RINGING",
    "CONNECT_STATE_CONNECTED",
    "CONNECT_STATE_CONNECTING",
    "CONNECT_STATE_DISCONNECTED",
    "CONNECT_STATE_FAILED",
    "DEFAULT_RELAY_HOST",
    "DETECT_TYPE_DIGIT",
    "DETECT_TYPE_FAX",
    "DETECT_TYPE_MACHINE",
    "END_REASON_ABANDONED",
    "END_REASON_BUSY",
    "END_REASON_CANCEL",
    "END_REASON_DECLINE",
    "END_REASON_ERROR",
    "END_REASON_HANGUP",
    "END_REASON_MAX_DURATION",
    "END_REASON_NOT_FOUND",
    "END_REASON_NO_ANSWER",
    "EVENT_AUTHORIZATION_STATE",
    "EVENT_CALLING_ERROR",
    "EVENT_CALL_AI",
    "EVENT_CALL_COLLECT",
    "EVENT_CALL_CONNECT",
    "EVENT_CALL_DENOISE",
    "EVENT_CALL_DETECT",
    "EVENT_CALL_DIAL",
    "EVENT_CALL_ECHO",
    "EVENT_CALL_FAX",
    "EVENT_CALL_HOLD",
    "EVENT_CALL_PAY",
    "EVENT_CALL_PLAY",
    "EVENT_CALL_QUEUE",
    "EVENT_CALL_RECEIVE",
    "EVENT_CALL_RECORD",
    "EVENT_CALL_REFER",
    "EVENT_CALL_SEND_DIGITS",
    "EVENT_CALL_STATE",
    "EVENT_CALL_STREAM",
    "EVENT_CALL_TAP",
    "EVENT_CALL_TRANSCRIBE",
    "EVENT_CONFERENCE",
    "EVENT_MESSAGING_RECEIVE",
    "EVENT_MESSAGING_STATE",
    "MESSAGE_STATE_DELIVERED",
    "MESSAGE_STATE_FAILED",
    "MESSAGE_STATE_INITIATED",
    "MESSAGE_STATE_QUEUED",
    "MESSAGE_STATE_RECEIVED",
    "MESSAGE_STATE_SENT",
    "MESSAGE_STATE_UNDELIVERED",
    "MESSAGE_TERMINAL_STATES",
    "METHOD_SIGNALWIRE_CONNECT",
    "METHOD_SIGNALWIRE_DISCONNECT",
    "METHOD_SIGNALWIRE_EVENT",
    "METHOD_SIGNALWIRE_PING",
    "METHOD_SIGNALWIRE_RECEIVE",
    "METHOD_SIGNALWIRE_UNRECEIVE",
    "PLAY_STATE_ERROR",
    "PLAY_STATE_FINISHED",
    "PLAY_STATE_PAUSED",
    "PLAY_STATE_PLAYING",
    "PROTOCOL_VERSION",
    "RECONNECT_BACKOFF_FACTOR",
    "RECONNECT_MAX_AUTH_ATTEMPTS",
    "RECONNECT_MAX_DELAY",
    "RECONNECT_MIN_DELAY",
    "RECORD_STATE_FINISHED",
    "RECORD_STATE_NO_INPUT",
    "RECORD_STATE_PAUSED",
    "RECORD_STATE_RECORDING",
    "ROOM_STATE_JOIN",
    "ROOM_STATE_JOINING",
    "ROOM_STATE_LEAVE",
    "ROOM_STATE_LEAVING",
]

DEFAULT_RELAY_HOST: Final = "relay.signalwire.com"

# Call states, in their (monotonic) order.
CALL_STATE_CREATED: Final = "created"
CALL_STATE_RINGING: Final = "ringing"
CALL_STATE_ANSWERED: Final = "answered"
CALL_STATE_ENDING: Final = "ending"
CALL_STATE_ENDED: Final = "ended"
CALL_STATES: Final = (
    CALL_STATE_CREATED,
    CALL_STATE_RINGING,
    CALL_STATE_ANSWERED,
    CALL_STATE_ENDING,
    CALL_STATE_ENDED,
)

END_REASON_HANGUP: Final = "hangup"
END_REASON_CANCEL: Final = "cancel"
END_REASON_BUSY: Final = "busy"
END_REASON_NO_ANSWER: Final = "noAnswer"
END_REASON_DECLINE: Final = "decline"
END_REASON_ERROR: Final = "error"
END_REASON_ABANDONED: Final = "abandoned"
END_REASON_MAX_DURATION: Final = "max_duration"
END_REASON_NOT_FOUND: Final = "not_found"

CONNECT_STATE_CONNECTING: Final = "connecting"
CONNECT_STATE_CONNECTED: Final = "connected"
CONNECT_STATE_DISCONNECTED: Final = "disconnected"
CONNECT_STATE_FAILED: Final = "failed"

EVENT_CALL_STATE: Final = "calling.call.state"
EVENT_CALL_RECEIVE: Final = "calling.call.receive"
EVENT_CALL_CONNECT: Final = "calling.call.connect"
EVENT_CALL_PLAY: Final = "calling.call.play"
EVENT_CALL_COLLECT: Final = "calling.call.collect"
EVENT_CALL_RECORD: Final = "calling.call.record"
EVENT_CALL_DETECT: Final = "calling.call.detect"
EVENT_CALL_FAX: Final = "calling.call.fax"
EVENT_CALL_TAP: Final = "calling.call.tap"
EVENT_CALL_SEND_DIGITS: Final = "calling.call.send_digits"
EVENT_CALL_DIAL: Final = "calling.call.dial"
EVENT_CALL_REFER: Final = "calling.call.refer"
EVENT_CALL_DENOISE: Final = "calling.call.denoise"
EVENT_CALL_PAY: Final = "calling.call.pay"
EVENT_CALL_QUEUE: Final = "calling.call.queue"
EVENT_CALL_STREAM: Final = "calling.call.stream"
EVENT_CALL_ECHO: Final = "calling.call.echo"
EVENT_CALL_TRANSCRIBE: Final = "calling.call.transcribe"
EVENT_CALL_HOLD: Final = "calling.call.hold"
EVENT_CALL_AI: Final = "calling.call.ai"
EVENT_CONFERENCE: Final = "calling.conference"
EVENT_CALLING_ERROR: Final = "calling.error"
EVENT_MESSAGING_RECEIVE: Final = "messaging.receive"
EVENT_MESSAGING_STATE: Final = "messaging.state"

MESSAGE_STATE_QUEUED: Final = "queued"
MESSAGE_STATE_INITIATED: Final = "initiated"
MESSAGE_STATE_SENT: Final = "sent"
MESSAGE_STATE_DELIVERED: Final = "delivered"
MESSAGE_STATE_UNDELIVERED: Final = "undelivered"
MESSAGE_STATE_FAILED: Final = "failed"
MESSAGE_STATE_RECEIVED: Final = "received"
MESSAGE_TERMINAL_STATES: Final = (
    MESSAGE_STATE_DELIVERED,
    MESSAGE_STATE_UNDELIVERED,
    MESSAGE_STATE_FAILED,
)

PLAY_STATE_PLAYING: Final = "playing"
PLAY_STATE_PAUSED: Final = "paused"
PLAY_STATE_FINISHED: Final = "finished"
PLAY_STATE_ERROR: Final = "error"

RECORD_STATE_RECORDING: Final = "recording"
RECORD_STATE_PAUSED: Final = "paused"
RECORD_STATE_FINISHED: Final = "finished"
RECORD_STATE_NO_INPUT: Final = "no_input"

DETECT_TYPE_MACHINE: Final = "machine"
DETECT_TYPE_FAX: Final = "fax"
DETECT_TYPE_DIGIT: Final = "digit"

ROOM_STATE_JOINING: Final = "joining"
ROOM_STATE_JOIN: Final = "join"
ROOM_STATE_LEAVING: Final = "leaving"
ROOM_STATE_LEAVE: Final = "leave"

# Session-level names the official ``signalwire.relay.constants`` also exports.
# The agent, version and reconnect values are the core's own (not copies), so they
# cannot drift from behaviour; the method and event names are wire literals.
AGENT_STRING: Final = DEFAULT_AGENT
PROTOCOL_VERSION: Final = dict(RELAY_VERSION)
EVENT_AUTHORIZATION_STATE: Final = "signalwire.authorization.state"
METHOD_SIGNALWIRE_CONNECT: Final = "signalwire.connect"
METHOD_SIGNALWIRE_DISCONNECT: Final = "signalwire.disconnect"
METHOD_SIGNALWIRE_EVENT: Final = "signalwire.event"
METHOD_SIGNALWIRE_PING: Final = "signalwire.ping"
METHOD_SIGNALWIRE_RECEIVE: Final = "signalwire.receive"
METHOD_SIGNALWIRE_UNRECEIVE: Final = "signalwire.unreceive"
RECONNECT_MIN_DELAY: Final = BACKOFF_MIN
RECONNECT_MAX_DELAY: Final = BACKOFF_MAX
RECONNECT_BACKOFF_FACTOR: Final = BACKOFF_FACTOR
RECONNECT_MAX_AUTH_ATTEMPTS: Final = MAX_AUTH_REJECTIONS
