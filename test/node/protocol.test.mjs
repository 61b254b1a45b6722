// Tencent Cloud API 3.0 as the Node SDKs speak it to an endpoint written
// exactly "127.0.0.1:PORT": TC3-HMAC-SHA256 (POST JSON and GET), signature v1
// with HmacSHA256 and HmacSHA1 (form POST and GET), and the authentication
// errors: a wrong secret, an unknown SecretId.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import intlCommon from "tencentcloud-sdk-nodejs-intl-en/tencentcloud/common/index.js";
import intlDomain from "tencentcloud-sdk-nodejs-intl-en/tencentcloud/domain/v20180808/index.js";

import { intlCommonClient, intlDomainClient, intlPartnersClient, tc4Common, tc4Smh } from "./clients.mjs";
import { DEV, UUID, startVerifyfn, tcRejects, viaCallback } from "./verifyfn.mjs";

// Contacts used here: +852 5124 00xx and 5124 11xx, +86 189 0001 00xx and
// node-proto-*@example.com, one per call that sends (a resend within 60 s is refused).
let server;
before(async () => {
  server = await startVerifyfn();
});
after(() => server?.stop());

test("the endpoint is an IP and a port, exactly as the SDKs are given it", () => {
  assert.match(server.endpoint, /^127\.0\.0\.1:\d+$/);
});

describe("TC3-HMAC-SHA256", () => {
  test("POST, tencentcloud-sdk-nodejs generated smh client: send and verify", async () => {
    const smh = tc4Smh(server.endpoint);
    const req = { Purpose: "BindSuperAdmin", PhoneNumber: "18900010001" };
    await smh.SendSmsCode(req);
    const resp = await smh.VerifySmsCode({ ...req, Code: await server.lastCode("+8618900010001") });
    assert.match(resp.RequestId, UUID);
  });

  test("POST, tencentcloud-sdk-nodejs CommonClient with X-TC-Language en-US", async () => {
    const c = tc4Common(server.endpoint, "intlpartnersmgt", { language: "en-US" });
    assert.match((await c.request("SendVerifyCode", { CountryCode: "852", PhoneNum: "51240001" })).RequestId, UUID);
  });

  test("POST, tencentcloud-sdk-nodejs-intl-en CommonClient (and its X-TC-Region: null)", async () => {
    const c = intlCommonClient(server.endpoint, "domain");
    await c.call("SendIntlPhoneEmailCode", { Type: 2, Code: "node-proto-1@example.com" });
    await c.call("CreateIntlPhoneEmail", { Type: 2, Code: "node-proto-1@example.com", VerifyCode: await server.lastCode("node-proto-1@example.com") });
  });

  test("GET, tencentcloud-sdk-nodejs-intl-en generated domain client: parameters in the query", async () => {
    const get = intlDomainClient(server.endpoint, { reqMethod: "GET" });
    await get.SendIntlPhoneEmailCode({ Type: 1, Code: "+85251240002" });
    await get.CreateIntlPhoneEmail({ Type: 1, Code: "+85251240002", VerifyCode: await server.lastCode("+85251240002") });
    const list = await get.DescribeIntlPhoneEmailList({ Type: 1, Limit: 200 });
    assert.ok(list.PhoneEmailList.some((e) => e.Code === "+85251240002"));
  });

  test("GET, tencentcloud-sdk-nodejs generated smh client", async () => {
    const smh = tc4Smh(server.endpoint, { reqMethod: "GET" });
    const req = { Purpose: "BindSuperAdmin", PhoneNumber: "18900010002", CountryCode: "+86" };
    await smh.SendSmsCode(req);
    await smh.VerifySmsCode({ ...req, Code: await server.lastCode("+8618900010002") });
  });
});

describe("signature v1", () => {
  test("HmacSHA256 is the intl-en ClientProfile's default: form POST, generated domain client", async () => {
    const http = new intlCommon.HttpProfile();
    http.endpoint = server.endpoint;
    http.protocol = "http://";
    const profile = new intlCommon.ClientProfile(undefined, http);
    assert.equal(profile.signMethod, "HmacSHA256");
    const client = new intlDomain.Client(new intlCommon.Credential(DEV.secretId, DEV.secretKey), "", profile);
    const call = (name, fields) => viaCallback((cb) => client[name](Object.assign(new intlDomain.Models[`${name}Request`](), fields), cb));
    await call("SendIntlPhoneEmailCode", { Type: 1, Code: "+85251240003" });
    // Type arrives as the string "1" in a form.
    await call("CreateIntlPhoneEmail", { Type: 1, Code: "+85251240003", VerifyCode: await server.lastCode("+85251240003") });
  });

  test("HmacSHA256, tencentcloud-sdk-nodejs CommonClient", async () => {
    const c = tc4Common(server.endpoint, "intlpartnersmgt", { signMethod: "HmacSHA256" });
    await c.request("SendVerifyCode", { CountryCode: "852", PhoneNum: "51240004" });
  });

  test("HmacSHA1, tencentcloud-sdk-nodejs generated smh client: send and verify", async () => {
    const smh = tc4Smh(server.endpoint, { signMethod: "HmacSHA1" });
    const req = { Purpose: "BindSuperAdmin", PhoneNumber: "18900010003" };
    await smh.SendSmsCode(req);
    await smh.VerifySmsCode({ ...req, Code: await server.lastCode("+8618900010003") });
  });

  test("HmacSHA1, tencentcloud-sdk-nodejs-intl-en generated intlpartnersmgt client", async () => {
    const c = intlPartnersClient(server.endpoint, { signMethod: "HmacSHA1" });
    await c.SendVerifyCode({ CountryCode: "852", PhoneNum: "51240005" });
    assert.match(await server.lastCode("+85251240005"), /^\d{6}$/);
  });

  test("GET with HmacSHA256, tencentcloud-sdk-nodejs CommonClient: a contact with @ and + in the query", async () => {
    const c = tc4Common(server.endpoint, "domain", { signMethod: "HmacSHA256", reqMethod: "GET" });
    await c.request("SendIntlPhoneEmailCode", { Type: 2, Code: "node-proto+tag@example.com" });
    await c.request("CreateIntlPhoneEmail", { Type: 2, Code: "node-proto+tag@example.com", VerifyCode: await server.lastCode("node-proto+tag@example.com") });
    const list = await c.request("DescribeIntlPhoneEmailList", { Type: 2, Limit: 200 });
    assert.ok(list.PhoneEmailList.some((e) => e.Code === "node-proto+tag@example.com"));
  });

  test("GET with HmacSHA1, tencentcloud-sdk-nodejs-intl-en generated intlpartnersmgt client", async () => {
    const c = intlPartnersClient(server.endpoint, { signMethod: "HmacSHA1", reqMethod: "GET" });
    await c.SendVerifyCode({ CountryCode: "+852", PhoneNum: "51240006" });
    assert.match(await server.lastCode("+85251240006"), /^\d{6}$/);
  });
});

describe("authentication errors", () => {
  const methods = [
    ["TC3 POST", { signMethod: "TC3-HMAC-SHA256" }],
    ["TC3 GET", { signMethod: "TC3-HMAC-SHA256", reqMethod: "GET" }],
    ["v1 HmacSHA256 POST", { signMethod: "HmacSHA256" }],
    ["v1 HmacSHA1 POST", { signMethod: "HmacSHA1" }],
    ["v1 HmacSHA1 GET", { signMethod: "HmacSHA1", reqMethod: "GET" }],
  ];
  methods.forEach(([name, o], i) => {
    test(`${name}: a wrong secret is AuthFailure.SignatureFailure; the right one passes (both SDKs)`, async () => {
      const wrong = { ...o, secretKey: "not-the-secret-key" };
      await tcRejects(tc4Common(server.endpoint, "intlpartnersmgt", wrong).request("SendVerifyCode", { CountryCode: "852", PhoneNum: "51240010" }), "AuthFailure.SignatureFailure");
      await tcRejects(intlPartnersClient(server.endpoint, wrong).SendVerifyCode({ CountryCode: "852", PhoneNum: "51240010" }), "AuthFailure.SignatureFailure");
      // The same requests, rightly signed, pass.
      await tc4Common(server.endpoint, "intlpartnersmgt", o).request("SendVerifyCode", { CountryCode: "852", PhoneNum: `512411${i}0` });
      await intlPartnersClient(server.endpoint, o).SendVerifyCode({ CountryCode: "852", PhoneNum: `512411${i}1` });
    });

    test(`${name}: an unknown SecretId is AuthFailure.SecretIdNotFound (both SDKs)`, async () => {
      const unknown = { ...o, secretId: "AKIDNOSUCHKEY00000000000000000000001" };
      await tcRejects(tc4Smh(server.endpoint, unknown).SendSmsCode({ Purpose: "BindSuperAdmin", PhoneNumber: "18900010010" }), "AuthFailure.SecretIdNotFound");
      await tcRejects(intlDomainClient(server.endpoint, unknown).SendIntlPhoneEmailCode({ Type: 1, Code: "+85251240010" }), "AuthFailure.SecretIdNotFound");
    });
  });

  test("nothing was sent for a refused request", async () => {
    const refused = new Set(["+85251240010", "+8618900010010"]);
    assert.deepEqual((await server.messages()).filter((m) => refused.has(m.to)), []);
  });
});
