"""Serializers schemathesis lacks for this API's request media types, loaded by
tests/schemathesis.sh through SCHEMATHESIS_HOOKS.

`POST /api/v1/mail/inbound` takes a raw RFC 5322 message (`message/rfc822`): generated
values are sent as their bytes (a string as UTF-8), so the server's parser sees arbitrary
input and must answer it with a 4xx problem, never a 5xx.
"""

import schemathesis


@schemathesis.serializer("message/rfc822")
def rfc822(ctx, value):
    if isinstance(value, bytes):
        return {"data": value}
    if isinstance(value, str):
        return {"data": value.encode("utf-8")}
    return {"data": str(value).encode("utf-8")}
