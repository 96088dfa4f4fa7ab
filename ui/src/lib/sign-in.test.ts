import { describe, expect, it } from "vitest";
import { earlierCodeStillWorks, inboxFor, inboxOf, otpKindFor, providerLabel, summarizeAssurance, tabsFor } from "./sign-in";
import type { InboxMessage, SignInMethods } from "./types";

const methods = (over: Partial<SignInMethods>): SignInMethods => ({
  email: false,
  phone: false,
  anonymous: false,
  providers: [],
  disableSignup: false,
  mailerAutoconfirm: false,
  phoneAutoconfirm: false,
  saml: false,
  ...over,
});

describe("tabsFor", () => {
  it("offers only what the project has on", () => {
    expect(tabsFor(methods({ email: true }))).toEqual(["password", "email-code"]);
    expect(tabsFor(methods({ phone: true, providers: ["github"] }))).toEqual(["phone-code", "browser"]);
    expect(tabsFor(methods({ email: true, phone: true }))).toEqual(["password", "email-code", "phone-code"]);
    expect(tabsFor(methods({ providers: ["google"] }))).toEqual(["browser"]);
  });
  it("keeps password while the settings are unknown, and offers nothing when all is off", () => {
    expect(tabsFor(null)).toEqual(["password"]);
    expect(tabsFor(methods({}))).toEqual([]);
  });
});

describe("names and kinds", () => {
  it("names providers as people write them", () => {
    expect(providerLabel("github")).toBe("GitHub");
    expect(providerLabel("linkedin_oidc")).toBe("LinkedIn");
    expect(providerLabel("some_new_one")).toBe("Some New One");
  });
  it("verifies an email code as type email and a phone code as sms", () => {
    expect(otpKindFor("email")).toBe("email");
    expect(otpKindFor("phone")).toBe("sms");
  });
});

describe("earlierCodeStillWorks", () => {
  it("is true only for GoTrue's resend-too-soon answers", () => {
    expect(earlierCodeStillWorks("over_email_send_rate_limit")).toBe(true);
    expect(earlierCodeStillWorks("over_sms_send_rate_limit")).toBe(true);
    expect(earlierCodeStillWorks("over_request_rate_limit")).toBe(false);
    expect(earlierCodeStillWorks(null)).toBe(false);
  });
});

describe("inboxFor", () => {
  const message = (to: string, sentAt: string): InboxMessage =>
    ({ id: sentAt, to, sentAt, kind: "magiclink", subject: "Your Magic Link", code: "123456", link: null });
  const all = [message("Ada@Example.com", "2"), message("15551234567", "1"), message("bob@example.com", "0")];
  it("matches emails in any case and phones in any punctuation", () => {
    expect(inboxFor(all, " ada@example.COM ").map((m) => m.sentAt)).toEqual(["2"]);
    expect(inboxFor(all, "+1 555-123-4567").map((m) => m.sentAt)).toEqual(["1"]);
    expect(inboxFor(all, "")).toHaveLength(3);
    expect(inboxFor(all, "nobody")).toHaveLength(0);
  });
});

describe("summarizeAssurance", () => {
  const amr = [
    { method: "totp", timestamp: 20 },
    { method: "password", timestamp: 10 },
  ];
  it("says a session needs a step-up when a verified factor exists and it is aal1", () => {
    expect(summarizeAssurance({ aal: "aal1", amr: amr.slice(1) }, [{ status: "verified" }])).toEqual({
      current: "aal1",
      needsStepUp: true,
      methods: ["password"],
    });
  });
  it("does not once the session is aal2, or with only unverified factors", () => {
    expect(summarizeAssurance({ aal: "aal2", amr }, [{ status: "verified" }])).toEqual({
      current: "aal2",
      needsStepUp: false,
      methods: ["password", "totp"],
    });
    expect(summarizeAssurance({ aal: "aal1" }, [{ status: "unverified" }])?.needsStepUp).toBe(false);
  });
  it("has nothing to say without an aal claim", () => {
    expect(summarizeAssurance({}, [])).toBeNull();
  });
});

describe("inboxOf", () => {
  const m = (id: string, to: string, kind: InboxMessage["kind"]): InboxMessage => ({
    id,
    to,
    kind,
    subject: "",
    code: "123456",
    link: null,
    sentAt: "2024-05-01T14:02:11Z",
  });
  const inbox = [m("1", "new@example.com", "email_change"), m("2", "Ada@example.com", "email_change"), m("3", "ada@example.com", "magiclink"), m("4", "eve@example.com", "email_change")];

  it("keeps the messages of the kinds asked for, to either address, in the inbox's order", () => {
    expect(inboxOf(inbox, ["ada@example.com", "new@example.com"], ["email_change"]).map((x) => x.id)).toEqual(["1", "2"]);
  });

  it("has nothing for no recipient (an empty address matches no one here)", () => {
    expect(inboxOf(inbox, [null, " "], ["email_change"])).toEqual([]);
  });
});
