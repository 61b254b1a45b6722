// intlpartnersmgt 2022-09-28 (SendVerifyCode, CreateAccount, GetTradeConfigList,
// GetCountryCodes) through tencentcloud-sdk-nodejs-intl-en's generated client
// and CommonClient, and tencentcloud-sdk-nodejs 4.x's CommonClient, all
// signing TC3-HMAC-SHA256 for the endpoint 127.0.0.1:PORT.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { intlCommonClient, intlPartnersClient, tc4Common } from "./clients.mjs";
import { UUID, startVerifyfn, tcRejects, wrongCode } from "./verifyfn.mjs";

// Numbers used here: +852 5123 00xx (one per test: a resend within 60 s is refused).
let server, intl, intlCommon, tc4;
before(async () => {
  server = await startVerifyfn();
  intl = intlPartnersClient(server.endpoint);
  intlCommon = intlCommonClient(server.endpoint, "intlpartnersmgt");
  tc4 = tc4Common(server.endpoint, "intlpartnersmgt");
});
after(() => server?.stop());

const PASSWORD = "Node1234!pass";

/** A first-level industry with children, from GetTradeConfigList. */
async function industry() {
  const { TradeList } = await intl.GetTradeConfigList({});
  const one = TradeList.find((t) => t.Children?.length > 0);
  assert.ok(one, "GetTradeConfigList lists a first-level industry with children");
  return { TradeOne: one.Id, TradeTwo: one.Children[0].Id };
}

/** CreateAccount's fields for a personal account on +852 number. */
async function accountFields(number, mail, code) {
  return {
    AccountType: "personal",
    Mail: mail,
    Password: PASSWORD,
    ConfirmPassword: PASSWORD,
    PhoneNum: number,
    CountryCode: "852",
    Area: "HK",
    VerifyCode: code,
    ...(await industry()),
  };
}

describe("SendVerifyCode", () => {
  test("sends a 6-digit code by SMS to the E.164 number (intl-en generated client)", async () => {
    const resp = await intl.SendVerifyCode({ CountryCode: "852", PhoneNum: "51230001" });
    assert.match(resp.RequestId, UUID);
    const m = await server.lastMessage("+85251230001");
    assert.equal(m.channel, "sms");
    assert.equal(m.action, "SendVerifyCode");
    assert.match(m.code, /^\d{6}$/);
    assert.ok(m.text.includes(m.code), "the SMS text carries the code");
  });

  test("accepts the CountryCode with a leading + (tencentcloud-sdk-nodejs CommonClient)", async () => {
    const resp = await tc4.request("SendVerifyCode", { CountryCode: "+852", PhoneNum: "51230002" });
    assert.match(resp.RequestId, UUID);
    assert.match(await server.lastCode("+85251230002"), /^\d{6}$/);
  });

  test("a resend within 60 s is FailedOperation.SendVerifyCodeLimit60, and sends nothing", async () => {
    await intl.SendVerifyCode({ CountryCode: "852", PhoneNum: "51230003" });
    await tcRejects(intl.SendVerifyCode({ CountryCode: "852", PhoneNum: "51230003" }), "FailedOperation.SendVerifyCodeLimit60");
    await tcRejects(tc4.request("SendVerifyCode", { CountryCode: "852", PhoneNum: "51230003" }), "FailedOperation.SendVerifyCodeLimit60");
    const sent = (await server.messages()).filter((m) => m.to === "+85251230003");
    assert.equal(sent.length, 1);
  });

  test("CountryCode 86 (and 7, 380) is InvalidParameterValue.UnSupportArea", async () => {
    await tcRejects(intl.SendVerifyCode({ CountryCode: "86", PhoneNum: "13800138000" }), "InvalidParameterValue.UnSupportArea");
    await tcRejects(intlCommon.call("SendVerifyCode", { CountryCode: "7", PhoneNum: "9123456789" }), "InvalidParameterValue.UnSupportArea");
    await tcRejects(tc4.request("SendVerifyCode", { CountryCode: "380", PhoneNum: "501234567" }), "InvalidParameterValue.UnSupportArea");
  });

  test("a bad number or country code is InvalidParameterValue", async () => {
    for (const [cc, num] of [["852", "123"], ["852", "not-a-number"], ["852", ""], ["", "51230004"], ["abc", "51230004"]]) {
      await tcRejects(intl.SendVerifyCode({ CountryCode: cc, PhoneNum: num }), "InvalidParameterValue");
    }
    await tcRejects(tc4.request("SendVerifyCode", { CountryCode: "852" }), "InvalidParameterValue");
    assert.equal((await server.messages()).filter((m) => m.to === "+85251230004").length, 0);
  });
});

describe("CreateAccount", () => {
  test("creates an account with the code from the outbox: answers Uin and Reason; the code is then spent", async () => {
    await intl.SendVerifyCode({ CountryCode: "852", PhoneNum: "51230011" });
    const code = await server.lastCode("+85251230011");
    const fields = await accountFields("51230011", "node-create@example.com", code);
    const resp = await intl.CreateAccount(fields);
    assert.equal(typeof resp.Uin, "string");
    assert.match(resp.Uin, /^\d+$/);
    assert.equal(typeof resp.Reason, "string", "CreateAccount answers Reason");
    assert.match(resp.RequestId, UUID);
    // The code is single-use.
    await tcRejects(intl.CreateAccount({ ...fields, Mail: "node-create-2@example.com" }), "FailedOperation.VerificationCodeIllegal");
  });

  test("through the CommonClients: the same flow", async () => {
    await tc4.request("SendVerifyCode", { CountryCode: "852", PhoneNum: "51230012" });
    const fields = await accountFields("51230012", "node-common@example.com", await server.lastCode("+85251230012"));
    const resp = await tc4.request("CreateAccount", fields);
    assert.match(resp.Uin, /^\d+$/);
    assert.equal(typeof resp.Reason, "string");
    // The mail is taken now.
    await intlCommon.call("SendVerifyCode", { CountryCode: "852", PhoneNum: "51230013" });
    const again = await accountFields("51230013", "node-common@example.com", await server.lastCode("+85251230013"));
    await tcRejects(intlCommon.call("CreateAccount", again), "FailedOperation.MailIsRegistered");
  });

  test("a wrong code is FailedOperation.VerificationCodeIllegal; the right one still works", async () => {
    await intl.SendVerifyCode({ CountryCode: "852", PhoneNum: "51230014" });
    const code = await server.lastCode("+85251230014");
    const fields = await accountFields("51230014", "node-wrong@example.com", wrongCode(code));
    await tcRejects(intl.CreateAccount(fields), "FailedOperation.VerificationCodeIllegal");
    await tcRejects(intl.CreateAccount({ ...fields, VerifyCode: "12345" }), "FailedOperation.VerificationCodeIllegal");
    const resp = await intl.CreateAccount({ ...fields, VerifyCode: code });
    assert.match(resp.Uin, /^\d+$/);
  });

  test("a code that was never sent is FailedOperation.VerificationCodeIllegal", async () => {
    await tcRejects(intl.CreateAccount(await accountFields("51230015", "node-nocode@example.com", "123456")), "FailedOperation.VerificationCodeIllegal");
  });

  test("password errors: empty, format (length, space), content (no symbol), confirmation", async () => {
    const base = await accountFields("51230016", "node-password@example.com", "123456");
    const cases = [
      [{ Password: "", ConfirmPassword: "" }, "InvalidParameterValue.PasswordEmpty"],
      [{ Password: "Ab1!", ConfirmPassword: "Ab1!" }, "InvalidParameter.PasswordFormatIncorrect"],
      [{ Password: "Node 1234!pass", ConfirmPassword: "Node 1234!pass" }, "InvalidParameter.PasswordFormatIncorrect"],
      [{ Password: "Node1234pass", ConfirmPassword: "Node1234pass" }, "InvalidParameter.PasswordContentIncorrect"],
      [{ ConfirmPassword: "Node1234!pasS" }, "InvalidParameter.ConfirmPasswordContentIncorrect"],
    ];
    for (const [change, code] of cases) {
      await tcRejects(intl.CreateAccount({ ...base, ...change }), code);
    }
  });

  test("other documented field errors", async () => {
    const base = await accountFields("51230017", "node-fields@example.com", "123456");
    const cases = [
      [{ AccountType: "" }, "InvalidParameterValue.AccountTypeEmpty"],
      [{ AccountType: "robot" }, "InvalidParameter.AccountTypeContentIncorrect"],
      [{ Mail: "" }, "InvalidParameterValue.MailEmpty"],
      [{ Mail: "not-an-address" }, "InvalidParameter.MailFormatIncorrect"],
      [{ CountryCode: "86", PhoneNum: "13800138000" }, "InvalidParameterValue.UnSupportArea"],
      [{ PhoneNum: "" }, "InvalidParameterValue.PhoneNumEmpty"],
      [{ PhoneNum: "123" }, "InvalidParameter.PhoneNumFormatIncorrect"],
      [{ Area: "" }, "InvalidParameterValue.AreaEmpty"],
      [{ TradeTwo: "" }, "InvalidParameterValue.TradeInfoEmpty"],
    ];
    for (const [change, code] of cases) {
      await tcRejects(intl.CreateAccount({ ...base, ...change }), code);
    }
  });

  test("industry ids that do not belong together are FailedOperation.TradeInfoIncorrect", async () => {
    const { TradeList } = await intl.GetTradeConfigList({});
    const [a, b] = TradeList.filter((t) => t.Children?.length > 0);
    assert.ok(a && b, "two first-level industries with children");
    const base = await accountFields("51230018", "node-trade@example.com", "123456");
    await tcRejects(intl.CreateAccount({ ...base, TradeOne: a.Id, TradeTwo: b.Children[0].Id }), "FailedOperation.TradeInfoIncorrect");
    await tcRejects(intl.CreateAccount({ ...base, TradeOne: "kghy_99", TradeTwo: "kghy_9901" }), "FailedOperation.TradeInfoIncorrect");
  });

  test("over signature v1 (HmacSHA1, form POST), a password with & % ( ) arrives intact", async () => {
    const v1 = intlPartnersClient(server.endpoint, { signMethod: "HmacSHA1" });
    await v1.SendVerifyCode({ CountryCode: "852", PhoneNum: "51230019" });
    const password = "Pa&ss%w0rd()";
    const fields = { ...(await accountFields("51230019", "node-v1@example.com", await server.lastCode("+85251230019"))), Password: password, ConfirmPassword: password };
    const resp = await v1.CreateAccount(fields);
    assert.match(resp.Uin, /^\d+$/);
  });
});

describe("GetTradeConfigList", () => {
  test("lists first-level industries (kghy_NN) with their second-level children", async () => {
    const resp = await intl.GetTradeConfigList({});
    assert.match(resp.RequestId, UUID);
    assert.ok(Array.isArray(resp.TradeList) && resp.TradeList.length > 0);
    for (const one of resp.TradeList) {
      assert.match(one.Id, /^kghy_\d{2}$/);
      assert.ok(one.Name, `${one.Id} has a name`);
      assert.ok(Array.isArray(one.Children) && one.Children.length > 0, `${one.Id} has children`);
      for (const two of one.Children) {
        assert.ok(two.Id.startsWith(one.Id) && two.Id.length > one.Id.length, `${two.Id} is under ${one.Id}`);
        assert.ok(two.Name, `${two.Id} has a name`);
      }
    }
    // The CommonClient of the other SDK sees the same list.
    const common = await tc4.request("GetTradeConfigList", {});
    assert.deepEqual(common.TradeList.map((t) => t.Id), resp.TradeList.map((t) => t.Id));
  });
});

describe("GetCountryCodes", () => {
  test("lists calling codes with their ISO codes; Hong Kong is 852/HK/HKG", async () => {
    const resp = await intl.GetCountryCodes({});
    assert.match(resp.RequestId, UUID);
    assert.ok(Array.isArray(resp.Data) && resp.Data.length > 100, "a country list");
    const hk = resp.Data.find((c) => c.IOS2 === "HK");
    assert.ok(hk, "Hong Kong is listed");
    assert.equal(hk.Code, "852");
    assert.equal(hk.IOS3, "HKG");
    assert.ok(hk.EnName && hk.Name, "names in English and Chinese");
    for (const c of resp.Data) {
      assert.match(c.Code, /^\d{1,4}$/, `${c.IOS2}: calling code ${c.Code}`);
      assert.match(c.IOS2, /^[A-Z]{2}$/);
    }
    const common = await tc4.request("GetCountryCodes", {});
    assert.equal(common.Data.length, resp.Data.length);
  });
});
