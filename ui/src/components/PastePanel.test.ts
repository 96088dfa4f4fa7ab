import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/svelte";
import { api } from "../lib/api";
import type { ImportKind, PastePreview, PasteRotated, Prediction } from "../lib/types";
import { appError, deferred, eventually, expectOnlyPlannedCalls } from "../test/api";
import { session } from "../test/fixtures";
import { sessionStore } from "../lib/stores/session.svelte";
import PastePanel from "./PastePanel.svelte";

vi.mock("../lib/api");
expectOnlyPlannedCalls();

// The panel looks at a paste 200 ms after the last keystroke: that timer is faked and moved
// by the tests.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

function preview(kind: ImportKind, over: Partial<PastePreview> = {}): PastePreview {
  return {
    kind,
    description: "A refresh token",
    refreshTokenFingerprint: "rt:9c41d2",
    refreshTokenShape: { format: "legacy" },
    accessClaims: null,
    isCurrent: false,
    canRotate: true,
    warnings: [],
    prediction: null,
    ...over,
  };
}

function prediction(over: Partial<Prediction> = {}): Prediction {
  return {
    outcome: { kind: "normalRotation" },
    format: "legacy",
    intervalSecs: 10,
    intervalAssumed: false,
    expected: { kind: "newToken" },
    expectedAfter: null,
    explanation: "The server's active token for this session.",
    pastedFingerprint: "rt:9c41d2",
    ...over,
  };
}

function rotated(fingerprint: string, over: Partial<PasteRotated> = {}): PasteRotated {
  return {
    rotated: { session: session({ refreshTokenFingerprint: fingerprint }), joined: false },
    error: null,
    prediction: prediction(),
    verdict: { held: true, whatHappened: `the server issued a new refresh token, ${fingerprint}` },
    ...over,
  };
}

const input = () => screen.getByLabelText<HTMLTextAreaElement>(/A refresh token, an access token/);
const rotateButton = () => screen.getByRole<HTMLButtonElement>("button", { name: /^(Rotate|Rotating…)$/ });
const previewBox = () => document.getElementById("paste-preview");

async function paste(text: string) {
  await fireEvent.input(input(), { target: { value: text } });
  await vi.advanceTimersByTimeAsync(200);
}

describe("PastePanel's preview", () => {
  it("sends nothing until the typing stops, then asks for a preview of the last text only", async () => {
    vi.mocked(api.pastePreview).mockResolvedValue(preview("refresh_token"));
    render(PastePanel);
    expect(rotateButton().disabled, "nothing to rotate yet").toBe(true);

    await fireEvent.input(input(), { target: { value: "v1" } });
    await vi.advanceTimersByTimeAsync(150);
    await fireEvent.input(input(), { target: { value: "v1.refresh" } });
    await vi.advanceTimersByTimeAsync(199);
    expect(api.pastePreview).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(api.pastePreview).toHaveBeenCalledTimes(1);
    expect(api.pastePreview).toHaveBeenCalledWith("v1.refresh");
    await eventually(() => expect(previewBox()).not.toBeNull());
    expect(api.pasteRotate, "a preview never rotates").not.toHaveBeenCalled();
  });

  const kinds: [ImportKind, Partial<PastePreview>, string[]][] = [
    ["refresh_token", { description: "A refresh token" }, ["rt:9c41d2", "legacy format"]],
    [
      "storage_value",
      {
        description: "A supabase-js storage value (sb-abc-auth-token)",
        refreshTokenShape: { format: "v2", sessionId: "0d9c8b7a", counter: 3 },
        isCurrent: true,
        warnings: ["This is the current session's refresh token: rotating it here rotates the session in use."],
      },
      ["v2 · session 0d9c8b7a · rotation #3", "This is the current session's refresh token"],
    ],
    ["ssr_cookie", { description: "An @supabase/ssr cookie (base64-)" }, ["rt:9c41d2"]],
    ["token_response", { description: "A /token response" }, ["rt:9c41d2"]],
    ["bearer_header", { description: "An Authorization header", refreshTokenShape: { format: "unknown" } }, ["unrecognized format"]],
  ];
  it.each(kinds)("shows a %s with what it holds, and offers Rotate", async (kind, over, shown) => {
    vi.mocked(api.pastePreview).mockResolvedValue(preview(kind, over));
    render(PastePanel);
    await paste("pasted");
    await eventually(() => expect(previewBox()?.dataset.kind).toBe(kind));
    const box = previewBox()!;
    expect(within(box).getByText(over.description!)).toBeTruthy();
    for (const text of shown) expect(box.textContent).toContain(text);
    expect(rotateButton().disabled).toBe(false);
  });

  it("shows an access token alone with its warning, and Rotate stays off (no refresh token)", async () => {
    vi.mocked(api.pastePreview).mockResolvedValue(
      preview("access_token", {
        description: "An access token (JWT) of ada@example.com",
        refreshTokenFingerprint: null,
        refreshTokenShape: null,
        canRotate: false,
        warnings: ["An access token cannot be refreshed: paste the refresh token or the stored session."],
      }),
    );
    render(PastePanel);
    await paste("eyJhbGciOi.x.y");
    await eventually(() => expect(previewBox()?.dataset.kind).toBe("access_token"));
    expect(previewBox()?.textContent).toContain("An access token cannot be refreshed");
    expect(previewBox()?.querySelector(".mono"), "no refresh token line").toBeNull();
    expect(rotateButton().disabled).toBe(true);
  });

  it("says why a paste is not recognized, and forgets the preview when the box is emptied", async () => {
    vi.mocked(api.pastePreview)
      .mockResolvedValueOnce(preview("refresh_token"))
      .mockRejectedValueOnce(appError("invalidInput", "Nothing here looks like a token or a stored session"));
    render(PastePanel);
    await paste("good");
    await eventually(() => expect(previewBox()).not.toBeNull());

    await paste("garbage");
    const box = await eventually(() => screen.getByRole("alert"));
    expect(box.id).toBe("paste-error");
    expect(within(box).getByText("Nothing here looks like a token or a stored session")).toBeTruthy();
    expect(previewBox(), "the old preview goes with a failed one").toBeNull();

    await paste("   ");
    expect(api.pastePreview, "blank text is not sent").toHaveBeenCalledTimes(2);
    expect(screen.queryByRole("alert")).toBeNull();
    expect(rotateButton().disabled).toBe(true);
  });
});

describe("PastePanel's Rotate", () => {
  it("sends the pasted text, is busy while it waits, then says which session is current and empties the box", async () => {
    vi.mocked(api.pastePreview).mockResolvedValue(preview("refresh_token"));
    const answer = deferred<Awaited<ReturnType<typeof api.pasteRotate>>>();
    vi.mocked(api.pasteRotate).mockReturnValue(answer.promise);
    render(PastePanel);
    await paste("  v1.refresh-token  ");
    await eventually(() => expect(previewBox()).not.toBeNull());

    await fireEvent.click(rotateButton());
    expect(api.pasteRotate).toHaveBeenCalledTimes(1);
    expect(api.pasteRotate).toHaveBeenCalledWith("  v1.refresh-token  ");
    expect(rotateButton().disabled).toBe(true);
    expect(rotateButton().textContent?.trim()).toBe("Rotating…");

    answer.resolve(rotated("rt:new123"));
    const done = await eventually(() => screen.getByRole("status"));
    expect(done.textContent).toBe("Rotated: the new session (refresh token rt:new123) is now current.");
    expect(input().value).toBe("");
    expect(previewBox()).toBeNull();
    expect(rotateButton().disabled).toBe(true);
    const verdict = document.getElementById("paste-verdict")!;
    expect(verdict.textContent).toContain("Predicted: Normal rotation");
    expect(verdict.textContent).toContain("Prediction held: the server issued a new refresh token, rt:new123.");
  });

  it("keeps the text and shows GoTrue's refusal, with the verdict on the prediction", async () => {
    vi.mocked(api.pastePreview).mockResolvedValue(preview("refresh_token"));
    vi.mocked(api.pasteRotate).mockResolvedValue({
      rotated: null,
      error: { kind: "api", message: "Invalid Refresh Token: Already Used", code: "refresh_token_already_used", status: 400 },
      prediction: prediction({ outcome: { kind: "revokesSession" } }),
      verdict: { held: true, whatHappened: "the server answered refresh_token_already_used: Invalid Refresh Token: Already Used" },
    });
    render(PastePanel);
    await paste("v1.used");
    await eventually(() => expect(previewBox()).not.toBeNull());
    await fireEvent.click(rotateButton());

    const box = await eventually(() => screen.getByRole("alert"));
    expect(within(box).getByText("Refresh token already used")).toBeTruthy();
    expect(within(box).getByText("refresh_token_already_used")).toBeTruthy();
    expect(within(box).getByText("HTTP 400")).toBeTruthy();
    expect(input().value).toBe("v1.used");
    expect(rotateButton().disabled, "another try is allowed").toBe(false);
    const verdict = document.getElementById("paste-verdict")!;
    expect(verdict.dataset.held).toBe("true");
    expect(verdict.textContent).toContain("Predicted: Reuse outside the interval");
    expect(verdict.textContent).toContain("Prediction held: the server answered refresh_token_already_used");
  });

  it("shows a failure before sending as an error, with no verdict", async () => {
    vi.mocked(api.pastePreview).mockResolvedValue(preview("refresh_token"));
    vi.mocked(api.pasteRotate).mockRejectedValue(appError("noProfile", "No profile is open"));
    render(PastePanel);
    await paste("v1.used");
    await eventually(() => expect(previewBox()).not.toBeNull());
    await fireEvent.click(rotateButton());
    await eventually(() => screen.getByRole("alert"));
    expect(document.getElementById("paste-verdict")).toBeNull();
  });

  it("lets no preview still in flight land after the rotation", async () => {
    const late = deferred<PastePreview>();
    vi.mocked(api.pastePreview).mockReturnValue(late.promise);
    vi.mocked(api.pasteRotate).mockResolvedValue(rotated("rt:new"));
    render(PastePanel);
    await paste("v1.token");
    expect(api.pastePreview).toHaveBeenCalledTimes(1);

    await fireEvent.click(rotateButton());
    await eventually(() => expect(screen.getByRole("status").textContent).toContain("rt:new"));
    late.resolve(preview("refresh_token"));
    await vi.advanceTimersByTimeAsync(0);
    expect(previewBox(), "the old preview must not come back").toBeNull();
  });
});

describe("PastePanel's prediction", () => {
  it("says the predicted outcome and the interval under the preview", async () => {
    vi.mocked(api.pastePreview).mockResolvedValue(
      preview("refresh_token", { prediction: prediction({ outcome: { kind: "parentReissued" }, intervalAssumed: true }) }),
    );
    render(PastePanel);
    await paste("abcdefghijkl");
    const box = await eventually(() => document.getElementById("paste-prediction")!);
    expect(box.dataset.outcome).toBe("parentReissued");
    expect(document.getElementById("paste-forecast")!.textContent).toBe(
      "Parent of the active token: the server re-issues the active token, with no time limit.",
    );
    expect(document.getElementById("paste-interval")!.textContent).toContain("assuming the hosted default of 10 s");
  });

  it("counts a tolerated reuse down and then says it revokes", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
    const until = Date.now() + 3_000;
    vi.mocked(api.pastePreview).mockResolvedValue(
      preview("refresh_token", {
        prediction: prediction({ outcome: { kind: "toleratedInInterval", untilMs: until, secondsLeft: 3 } }),
      }),
    );
    render(PastePanel);
    await paste("abcdefghijkl");
    const sentence = () => document.getElementById("paste-forecast")?.textContent ?? "";
    await eventually(() => expect(sentence()).toContain("3 s left"));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sentence()).toContain("2 s left");
    await vi.advanceTimersByTimeAsync(2_500);
    expect(sentence()).toContain("Reuse outside the interval");
    expect(document.getElementById("paste-prediction")!.dataset.outcome).toBe("revokesSession");
    expect(api.pastePreview, "recomputed in the window, not asked again").toHaveBeenCalledTimes(1);
  });

  it("asks again when the current session's refresh token changes, not before", async () => {
    sessionStore.session = session({ refreshTokenFingerprint: "rt:active" });
    vi.mocked(api.pastePreview)
      .mockResolvedValueOnce(preview("refresh_token", { prediction: prediction() }))
      .mockResolvedValueOnce(
        preview("refresh_token", { prediction: prediction({ outcome: { kind: "parentReissued" } }) }),
      );
    const { unmount } = render(PastePanel);
    await paste("abcdefghijkl");
    const outcome = () => document.getElementById("paste-prediction")?.dataset.outcome;
    await eventually(() => expect(outcome()).toBe("normalRotation"));
    sessionStore.session = session({ refreshTokenFingerprint: "rt:active" });
    await vi.advanceTimersByTimeAsync(0);
    expect(api.pastePreview, "the same token: nothing to redo").toHaveBeenCalledTimes(1);
    sessionStore.session = session({ refreshTokenFingerprint: "rt:child" });
    await eventually(() => expect(outcome()).toBe("parentReissued"));
    expect(api.pastePreview).toHaveBeenCalledTimes(2);
    expect(api.pastePreview).toHaveBeenLastCalledWith("abcdefghijkl");
    unmount();
    sessionStore.session = null;
  });

  it("marks the verdict box held or missed only when there is a verdict", async () => {
    vi.mocked(api.pastePreview).mockResolvedValue(preview("refresh_token"));
    vi.mocked(api.pasteRotate).mockResolvedValue(
      rotated("rt:new", { prediction: prediction({ outcome: { kind: "unknown", why: "not known" } }), verdict: null }),
    );
    render(PastePanel);
    await paste("abcdefghijkl");
    await eventually(() => expect(previewBox()).not.toBeNull());
    await fireEvent.click(rotateButton());
    const box = await eventually(() => document.getElementById("paste-verdict")!);
    expect(box.dataset.held, "no verdict: neither held nor missed").toBeUndefined();
    expect(box.textContent).not.toContain("Prediction missed");
  });
});
