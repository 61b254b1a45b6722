// domain 2018-08-08 (SendIntlPhoneEmailCode, CreateIntlPhoneEmail,
// DescribeIntlPhoneEmailList, DeleteIntlPhoneEmail) through
// tencentcloud-sdk-nodejs-intl-en's generated domain client and
// tencentcloud-sdk-nodejs 4.x's CommonClient (its generated domain package has
// no *Intl* actions), signing TC3-HMAC-SHA256 for 127.0.0.1:PORT.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { intlDomainClient, tc4Common } from "./clients.mjs";
import { UUID, startVerifyfn, tcRejects, wrongCode } from "./verifyfn.mjs";

// Contacts used here: +852 6123 00xx and node-*@example.com, one per test.
let server, intl, tc4;
before(async () => {
  server = await startVerifyfn();
  intl = intlDomainClient(server.endpoint);
  tc4 = tc4Common(server.endpoint, "domain");
});
after(() => server?.stop());

const DATETIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

/** The verified contacts of one type (0: all), as DescribeIntlPhoneEmailList pages them. */
async function listed(type) {
  const resp = await intl.DescribeIntlPhoneEmailList({ Type: type, Limit: 200 });
  assert.match(resp.RequestId, UUID);
  return resp;
}

describe("verifying a contact", () => {
  test("phone: SendIntlPhoneEmailCode, CreateIntlPhoneEmail, listed, re-verify refused, deleted (intl-en client)", async () => {
    const sent = await intl.SendIntlPhoneEmailCode({ Type: 1, Code: "+85261230001" });
    assert.match(sent.RequestId, UUID);
    const m = await server.lastMessage("+85261230001");
    assert.equal(m.channel, "sms");
    assert.equal(m.action, "SendIntlPhoneEmailCode");
    assert.match(m.code, /^\d{6}$/);

    const created = await intl.CreateIntlPhoneEmail({ Type: 1, Code: "+85261230001", VerifyCode: m.code });
    assert.match(created.RequestId, UUID);
    await tcRejects(intl.CreateIntlPhoneEmail({ Type: 1, Code: "+852 6123 0001", VerifyCode: m.code }), "InternalError.VerifiedPhoneEmailErr");

    const phones = await listed(1);
    const entry = phones.PhoneEmailList.find((e) => e.Code === "+85261230001");
    assert.ok(entry, "the verified number is listed");
    assert.equal(entry.Type, 1);
    assert.match(entry.CreatedOn, DATETIME);

    const deleted = await intl.DeleteIntlPhoneEmail({ Type: 1, Code: "+85261230001" });
    assert.match(deleted.RequestId, UUID);
    assert.equal((await listed(1)).PhoneEmailList.find((e) => e.Code === "+85261230001"), undefined);
    await tcRejects(intl.DeleteIntlPhoneEmail({ Type: 1, Code: "+85261230001" }), "InternalError.DeletePhoneEmailVerifyErr");
  });

  test("email: the same flow through the CommonClient; the code goes by email", async () => {
    await tc4.request("SendIntlPhoneEmailCode", { Type: 2, Code: "Node.Owner@Example.COM" });
    const m = await server.lastMessage("Node.Owner@example.com");
    assert.equal(m.channel, "email");
    assert.match(m.code, /^\d{6}$/);
    await tc4.request("CreateIntlPhoneEmail", { Type: 2, Code: "Node.Owner@example.com", VerifyCode: m.code });
    await tcRejects(tc4.request("CreateIntlPhoneEmail", { Type: 2, Code: "Node.Owner@example.com", VerifyCode: m.code }), "InternalError.VerifiedPhoneEmailErr");

    const emails = await tc4.request("DescribeIntlPhoneEmailList", { Type: 2 });
    const entry = emails.PhoneEmailList.find((e) => e.Code === "Node.Owner@example.com");
    assert.ok(entry, "the verified address is listed");
    assert.equal(entry.Type, 2);
    assert.match(entry.CreatedOn, DATETIME);

    await tc4.request("DeleteIntlPhoneEmail", { Type: 2, Code: "Node.Owner@example.com" });
    const after = await tc4.request("DescribeIntlPhoneEmailList", { Type: 2 });
    assert.equal(after.PhoneEmailList.find((e) => e.Code === "Node.Owner@example.com"), undefined);
  });

  test("the documented example: a national number is taken as +86", async () => {
    await intl.SendIntlPhoneEmailCode({ Type: 1, Code: "18766554433" });
    const code = await server.lastCode("+8618766554433");
    await intl.CreateIntlPhoneEmail({ Type: 1, Code: "18766554433", VerifyCode: code });
    assert.ok((await listed(1)).PhoneEmailList.some((e) => e.Code === "+8618766554433"));
  });

  test("a wrong code is InternalError.VerifyCodeErr; the right one still verifies", async () => {
    await intl.SendIntlPhoneEmailCode({ Type: 1, Code: "+85261230002" });
    const code = await server.lastCode("+85261230002");
    await tcRejects(intl.CreateIntlPhoneEmail({ Type: 1, Code: "+85261230002", VerifyCode: wrongCode(code) }), "InternalError.VerifyCodeErr");
    await intl.CreateIntlPhoneEmail({ Type: 1, Code: "+85261230002", VerifyCode: code });
  });

  test("a code that was never sent is InternalError.CheckVerifyCodeErr", async () => {
    await tcRejects(intl.CreateIntlPhoneEmail({ Type: 2, Code: "node-nocode@example.com", VerifyCode: "123456" }), "InternalError.CheckVerifyCodeErr");
  });

  test("bad Type, contact or code shape is InvalidParameterValue.InvalidParameterFormat", async () => {
    const bad = [
      ["SendIntlPhoneEmailCode", { Type: 3, Code: "+85261230003" }],
      ["SendIntlPhoneEmailCode", { Type: 1, Code: "not a number" }],
      ["SendIntlPhoneEmailCode", { Type: 2, Code: "not-an-address" }],
      ["CreateIntlPhoneEmail", { Type: 1, Code: "+85261230003", VerifyCode: "12ab56" }],
      ["DescribeIntlPhoneEmailList", { Type: 1, Limit: 0 }],
    ];
    for (const [action, req] of bad) {
      await tcRejects(intl[action](req), "InvalidParameterValue.InvalidParameterFormat");
    }
    assert.equal((await server.messages()).filter((m) => m.to === "+85261230003").length, 0);
  });
});

describe("DescribeIntlPhoneEmailList", () => {
  test("filters by Type and pages with Limit and Offset; TotalCount counts the filter", async () => {
    const contacts = [[1, "+85261230011"], [2, "node-list-1@example.com"], [1, "+85261230012"], [2, "node-list-2@example.com"]];
    for (const [type, contact] of contacts) {
      await intl.SendIntlPhoneEmailCode({ Type: type, Code: contact });
      await intl.CreateIntlPhoneEmail({ Type: type, Code: contact, VerifyCode: await server.lastCode(contact) });
    }
    const all = await listed(0);
    const phones = await listed(1);
    const emails = await listed(2);
    assert.equal(all.TotalCount, all.PhoneEmailList.length);
    assert.equal(phones.TotalCount + emails.TotalCount, all.TotalCount);
    assert.ok(phones.PhoneEmailList.every((e) => e.Type === 1));
    assert.ok(emails.PhoneEmailList.every((e) => e.Type === 2));
    for (const [type, contact] of contacts) {
      assert.ok((type === 1 ? phones : emails).PhoneEmailList.some((e) => e.Code === contact), `${contact} listed`);
    }

    // Pages of one cover the list in the same order.
    const paged = [];
    for (let offset = 0; offset < all.TotalCount; offset++) {
      const page = await intl.DescribeIntlPhoneEmailList({ Type: 0, Limit: 1, Offset: offset });
      assert.equal(page.TotalCount, all.TotalCount);
      assert.equal(page.PhoneEmailList.length, 1);
      paged.push(page.PhoneEmailList[0].Code);
    }
    assert.deepEqual(paged, all.PhoneEmailList.map((e) => e.Code));
    const past = await intl.DescribeIntlPhoneEmailList({ Type: 0, Offset: all.TotalCount });
    assert.equal(past.TotalCount, all.TotalCount);
    assert.deepEqual(past.PhoneEmailList ?? [], []);

    // Without parameters: every type (the CommonClient sends {}).
    const bare = await tc4.request("DescribeIntlPhoneEmailList", {});
    assert.equal(bare.TotalCount, all.TotalCount);
  });
});
