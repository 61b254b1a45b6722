// smh 2021-07-12 (SendSmsCode, VerifySmsCode) through tencentcloud-sdk-nodejs
// 4.x's generated smh client, signing TC3-HMAC-SHA256 for 127.0.0.1:PORT.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { tc4Smh } from "./clients.mjs";
import { DEV, UUID, startVerifyfn, tcRejects, wrongCode } from "./verifyfn.mjs";

// Numbers used here: +86 189 0000 00xx, one per test (a resend within 60 s is
// refused), and the development instance's super admin +86 189 9999 9999.
let server, smh;
before(async () => {
  server = await startVerifyfn();
  smh = tc4Smh(server.endpoint);
});
after(() => server?.stop());

const ADMIN = DEV.smhSuperAdmin.slice(3); // national digits, as the documented example

describe("SendSmsCode and VerifySmsCode", () => {
  test("ChannelUpdateVerify: the super admin gets a 6-digit code, which verifies once", async () => {
    const req = { Purpose: "ChannelUpdateVerify", InstanceId: DEV.smhInstance, PhoneNumber: ADMIN };
    const sent = await smh.SendSmsCode(req);
    assert.match(sent.RequestId, UUID);
    const m = await server.lastMessage(DEV.smhSuperAdmin);
    assert.equal(m.channel, "sms");
    assert.equal(m.action, "SendSmsCode");
    assert.match(m.code, /^\d{6}$/);
    const verified = await smh.VerifySmsCode({ ...req, Code: m.code });
    assert.match(verified.RequestId, UUID);
    // Single use.
    await tcRejects(smh.VerifySmsCode({ ...req, Code: m.code }), "UnauthorizedOperation.SmsCode");
  });

  test("a wrong code is UnauthorizedOperation.SmsCode; the right one still verifies", async () => {
    const req = { Purpose: "BindSuperAdmin", PhoneNumber: "18900000001", CountryCode: "+86" };
    await smh.SendSmsCode(req);
    const code = await server.lastCode("+8618900000001");
    await tcRejects(smh.VerifySmsCode({ ...req, Code: wrongCode(code) }), "UnauthorizedOperation.SmsCode");
    await tcRejects(smh.VerifySmsCode({ ...req, Code: "12" }), "UnauthorizedOperation.SmsCode");
    // The code is bound to its purpose.
    await tcRejects(smh.VerifySmsCode({ ...req, Purpose: "ChannelUpdateVerify", Code: code }), "UnauthorizedOperation.SmsCode");
    await smh.VerifySmsCode({ ...req, Code: code });
  });

  test("a code that was never sent is UnauthorizedOperation.SmsCode", async () => {
    await tcRejects(smh.VerifySmsCode({ Purpose: "BindSuperAdmin", PhoneNumber: "18900000002", Code: "123456" }), "UnauthorizedOperation.SmsCode");
  });

  test("a resend within the cooldown is RequestLimitExceeded.SendSms", async () => {
    const req = { Purpose: "BindSuperAdmin", PhoneNumber: "18900000003" };
    await smh.SendSmsCode(req);
    await tcRejects(smh.SendSmsCode(req), "RequestLimitExceeded.SendSms");
    assert.equal((await server.messages()).filter((m) => m.to === "+8618900000003").length, 1);
  });

  test("an unsupported purpose is UnsupportedOperation.Purpose", async () => {
    await tcRejects(smh.SendSmsCode({ Purpose: "ResetPassword", PhoneNumber: "18900000004" }), "UnsupportedOperation.Purpose");
    await tcRejects(smh.VerifySmsCode({ Purpose: "ResetPassword", PhoneNumber: "18900000004", Code: "123456" }), "UnsupportedOperation.Purpose");
    assert.equal((await server.messages()).filter((m) => m.to === "+8618900000004").length, 0);
  });

  test("a bad number, country code or instance is the documented InvalidParameterValue / ResourceNotFound", async () => {
    await tcRejects(smh.SendSmsCode({ Purpose: "BindSuperAdmin", PhoneNumber: "123" }), "InvalidParameterValue.PhoneNumber");
    await tcRejects(smh.SendSmsCode({ Purpose: "BindSuperAdmin", PhoneNumber: "18900000005", CountryCode: "abc" }), "InvalidParameterValue.CountryCode");
    await tcRejects(smh.SendSmsCode({ Purpose: "BindSuperAdmin", PhoneNumber: "18900000005", InstanceId: "nosuchid" }), "ResourceNotFound.OfficialInstance");
    await tcRejects(smh.VerifySmsCode({ Purpose: "BindSuperAdmin", PhoneNumber: "18900000005", InstanceId: "nosuchid", Code: "123456" }), "ResourceNotFound.OfficialInstance");
  });

  // Last: it changes the instance's super admin.
  test("BindSuperAdmin rebinds the instance's super admin (then NotModified and NotSuperAdmin follow)", async () => {
    await tcRejects(smh.SendSmsCode({ Purpose: "BindSuperAdmin", InstanceId: DEV.smhInstance, PhoneNumber: ADMIN }), "InvalidParameterValue.NotModified");
    await tcRejects(smh.SendSmsCode({ Purpose: "ChannelUpdateVerify", InstanceId: DEV.smhInstance, PhoneNumber: "18900000006" }), "InvalidParameterValue.NotSuperAdmin");
    const req = { Purpose: "BindSuperAdmin", InstanceId: DEV.smhInstance, PhoneNumber: "18900000006" };
    await smh.SendSmsCode(req);
    await smh.VerifySmsCode({ ...req, Code: await server.lastCode("+8618900000006") });
    await tcRejects(smh.SendSmsCode(req), "InvalidParameterValue.NotModified");
    await tcRejects(smh.SendSmsCode({ Purpose: "ChannelUpdateVerify", InstanceId: DEV.smhInstance, PhoneNumber: ADMIN }), "InvalidParameterValue.NotSuperAdmin");
  });
});
