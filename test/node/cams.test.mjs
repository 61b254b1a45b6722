// cams 2020-06-06 (GetChatappVerifyCode, ChatappVerifyAndRegister) through
// @alicloud/cams20200606 on @alicloud/openapi-client: ACS3-HMAC-SHA256 by
// default, the RPC HMAC-SHA1 signature with signatureAlgorithm "v2".
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { camsClient, camsModels } from "./clients.mjs";
import { DEV, UUID, acsRejects, startVerifyfn, wrongCode } from "./verifyfn.mjs";

// Numbers used here: +852 9123 00xx, one per test (a resend within 60 s is refused).
let server;
before(async () => {
  server = await startVerifyfn();
});
after(() => server?.stop());

const SIGNATURES = [
  ["ACS3-HMAC-SHA256 (default)", undefined],
  ["RPC HMAC-SHA1 (signatureAlgorithm v2)", "v2"],
];

function getCode(client, fields) {
  return client.getChatappVerifyCode(new camsModels.GetChatappVerifyCodeRequest({ custSpaceId: DEV.camsSpace, method: "sms", locale: "en", ...fields }));
}

function register(client, fields) {
  return client.chatappVerifyAndRegister(new camsModels.ChatappVerifyAndRegisterRequest({ custSpaceId: DEV.camsSpace, ...fields }));
}

function assertOK(resp) {
  assert.equal(resp.statusCode, 200);
  assert.equal(resp.body.code, "OK");
  assert.match(resp.body.requestId, UUID);
}

describe("GetChatappVerifyCode and ChatappVerifyAndRegister", () => {
  SIGNATURES.forEach(([name, alg], i) => {
    test(`${name}: a 6-digit code by SMS, registered with it`, async () => {
      const cams = camsClient(server.endpoint, { signatureAlgorithm: alg });
      const phone = `8529123000${i + 1}`;
      assertOK(await getCode(cams, { phoneNumber: phone }));
      const m = await server.lastMessage(`+${phone}`);
      assert.equal(m.channel, "sms");
      assert.equal(m.action, "GetChatappVerifyCode");
      assert.match(m.code, /^\d{6}$/);
      assertOK(await register(cams, { phoneNumber: phone, verifyCode: m.code }));
      // Registered: no new code is needed, and the code is spent.
      await acsRejects(getCode(cams, { phoneNumber: phone }), "PhoneNumber.AlreadyRegistered");
      await acsRejects(register(cams, { phoneNumber: phone, verifyCode: m.code }), "PhoneNumber.AlreadyRegistered");
    });
  });

  test("voice: the code is called out", async () => {
    const cams = camsClient(server.endpoint);
    assertOK(await getCode(cams, { phoneNumber: "85291230003", method: "voice", locale: "zh_CN" }));
    const m = await server.lastMessage("+85291230003");
    assert.equal(m.channel, "voice");
    assert.equal(m.locale, "zh_CN");
  });

  test("a wrong code is VerifyCode.Mismatch; the right one still registers", async () => {
    const cams = camsClient(server.endpoint, { signatureAlgorithm: "v2" });
    await getCode(cams, { phoneNumber: "85291230004" });
    const code = await server.lastCode("+85291230004");
    await acsRejects(register(cams, { phoneNumber: "85291230004", verifyCode: wrongCode(code) }), "VerifyCode.Mismatch");
    assertOK(await register(camsClient(server.endpoint), { phoneNumber: "85291230004", verifyCode: code }));
  });

  test("a code that was never sent is VerifyCode.Expired", async () => {
    await acsRejects(register(camsClient(server.endpoint), { phoneNumber: "85291230005", verifyCode: "123456" }), "VerifyCode.Expired");
  });

  test("a resend within the cooldown is System.LimitControl", async () => {
    const cams = camsClient(server.endpoint);
    await getCode(cams, { phoneNumber: "85291230006" });
    await acsRejects(getCode(cams, { phoneNumber: "85291230006" }), "System.LimitControl");
    assert.equal((await server.messages()).filter((m) => m.to === "+85291230006").length, 1);
  });

  test("a space of another account is Unknown.ResourceOwnerId", async () => {
    const cams = camsClient(server.endpoint);
    await acsRejects(getCode(cams, { phoneNumber: "85291230007", custSpaceId: "cams-other1" }), "Unknown.ResourceOwnerId");
    await acsRejects(register(cams, { phoneNumber: "85291230007", custSpaceId: "cams-other1", verifyCode: "123456" }), "Unknown.ResourceOwnerId");
  });

  test("bad or missing parameters are InvalidParameter / MissingParameter", async () => {
    const cams = camsClient(server.endpoint);
    await acsRejects(getCode(cams, { phoneNumber: "85291230008", method: "fax" }), "InvalidParameter");
    await acsRejects(getCode(cams, { phoneNumber: "85291230008", locale: "xx_YY" }), "InvalidParameter");
    await acsRejects(getCode(cams, { phoneNumber: "12" }), "InvalidParameter");
    await acsRejects(getCode(cams, { phoneNumber: undefined }), "MissingParameter");
    await acsRejects(register(cams, { phoneNumber: "85291230008", verifyCode: "12ab56" }), "InvalidParameter");
  });
});

describe("the gateway's documented errors", () => {
  for (const [name, alg] of SIGNATURES) {
    test(`${name}: a wrong AccessKeySecret is SignatureDoesNotMatch`, async () => {
      const cams = camsClient(server.endpoint, { signatureAlgorithm: alg, accessKeySecret: "not-the-secret" });
      await acsRejects(getCode(cams, { phoneNumber: "85291230010" }), "SignatureDoesNotMatch");
    });

    test(`${name}: an unknown AccessKeyId is InvalidAccessKeyId.NotFound`, async () => {
      const cams = camsClient(server.endpoint, { signatureAlgorithm: alg, accessKeyId: "LTAI5tNoSuchKey0000000000" });
      await acsRejects(getCode(cams, { phoneNumber: "85291230010" }), "InvalidAccessKeyId.NotFound", 404);
    });
  }
  test("nothing was sent for a refused request", async () => {
    assert.equal((await server.messages()).filter((m) => m.to === "+85291230010").length, 0);
  });
});
