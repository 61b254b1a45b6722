// The official SDK clients, pointed at a local verifyfn. Each module is
// imported by its own path (the packages have no "exports" map), which loads
// one product instead of every product of the SDK.
import { CommonClient as TC4CommonClient } from "tencentcloud-sdk-nodejs/tencentcloud/common/common_client.js";
import { Client as TC4SmhClient } from "tencentcloud-sdk-nodejs/tencentcloud/services/smh/v20210712/smh_client.js";
import intlCommon from "tencentcloud-sdk-nodejs-intl-en/tencentcloud/common/index.js";
import intlPartners from "tencentcloud-sdk-nodejs-intl-en/tencentcloud/intlpartnersmgt/v20220928/index.js";
import intlDomain from "tencentcloud-sdk-nodejs-intl-en/tencentcloud/domain/v20180808/index.js";
import camsModule from "@alicloud/cams20200606";
import openapi from "@alicloud/openapi-client";

import { DEV, viaCallback } from "./verifyfn.mjs";

export const VERSIONS = Object.freeze({
  intlpartnersmgt: "2022-09-28",
  domain: "2018-08-08",
  smh: "2021-07-12",
  cams: "2020-06-06",
});

// ---- tencentcloud-sdk-nodejs 4.x: promise API, a ClientConfig object ----

/**
 * A tencentcloud-sdk-nodejs 4.x ClientConfig for a local endpoint.
 * @param {string} endpoint "127.0.0.1:PORT"
 * @param {{signMethod?: string, reqMethod?: string, secretId?: string, secretKey?: string, language?: string}} [o]
 */
function tc4Config(endpoint, o = {}) {
  return {
    credential: { secretId: o.secretId ?? DEV.secretId, secretKey: o.secretKey ?? DEV.secretKey },
    profile: {
      signMethod: o.signMethod ?? "TC3-HMAC-SHA256",
      language: o.language,
      httpProfile: { endpoint, protocol: "http://", reqMethod: o.reqMethod ?? "POST", reqTimeout: 30 },
    },
  };
}

/** A 4.x CommonClient for service (intlpartnersmgt, domain, smh). */
export function tc4Common(endpoint, service, o) {
  return new TC4CommonClient(`${service}.tencentcloudapi.com`, VERSIONS[service], tc4Config(endpoint, o));
}

/** The 4.x generated smh client. */
export function tc4Smh(endpoint, o) {
  return new TC4SmhClient(tc4Config(endpoint, o));
}

// ---- tencentcloud-sdk-nodejs-intl-en 3.x: callback API, positional args ----

function intlProfile(endpoint, o = {}) {
  const http = new intlCommon.HttpProfile();
  http.endpoint = endpoint;
  http.protocol = "http://";
  http.reqMethod = o.reqMethod ?? "POST";
  http.reqTimeout = 30;
  // The intl-en ClientProfile defaults to HmacSHA256 (signature v1).
  return new intlCommon.ClientProfile(o.signMethod ?? "TC3-HMAC-SHA256", http);
}

function intlCredential(o = {}) {
  return new intlCommon.Credential(o.secretId ?? DEV.secretId, o.secretKey ?? DEV.secretKey);
}

/**
 * Wraps an intl-en generated client: client.X(req) returns a promise of the
 * deserialized response model; req is built as the SDK's examples do, as a
 * request model with its fields set.
 */
function promised(client, models) {
  return new Proxy(client, {
    get(target, name) {
      if (typeof name !== "string" || !/^[A-Z]/.test(name) || typeof target[name] !== "function") {
        return target[name];
      }
      return (fields = {}) => {
        const Req = models[`${name}Request`];
        const req = Object.assign(new Req(), fields);
        return viaCallback((cb) => target[name](req, cb));
      };
    },
  });
}

/** The intl-en generated intlpartnersmgt client (promise-wrapped). */
export function intlPartnersClient(endpoint, o) {
  return promised(new intlPartners.Client(intlCredential(o), "", intlProfile(endpoint, o)), intlPartners.Models);
}

/** The intl-en generated domain client (promise-wrapped). */
export function intlDomainClient(endpoint, o) {
  return promised(new intlDomain.Client(intlCredential(o), "", intlProfile(endpoint, o)), intlDomain.Models);
}

/** The intl-en CommonClient: call(action, params) returns a promise. */
export function intlCommonClient(endpoint, service, o) {
  const c = new intlCommon.CommonClient(`${service}.tencentcloudapi.com`, VERSIONS[service], intlCredential(o), "", intlProfile(endpoint, o));
  return { call: (action, params = {}) => viaCallback((cb) => c.request(action, params, cb)) };
}

// ---- @alicloud/cams20200606 on @alicloud/openapi-client ----

/**
 * The generated cams client; signatureAlgorithm "v2" selects the RPC
 * HMAC-SHA1 signature, the default is ACS3-HMAC-SHA256.
 * @param {{signatureAlgorithm?: string, accessKeyId?: string, accessKeySecret?: string}} [o]
 */
export function camsClient(endpoint, o = {}) {
  const config = new openapi.Config({
    accessKeyId: o.accessKeyId ?? DEV.secretId,
    accessKeySecret: o.accessKeySecret ?? DEV.secretKey,
    endpoint,
    protocol: "http",
    regionId: "ap-southeast-1",
    readTimeout: 30_000,
    connectTimeout: 30_000,
  });
  if (o.signatureAlgorithm) config.signatureAlgorithm = o.signatureAlgorithm;
  return new camsModule.default(config);
}

export const camsModels = camsModule;
