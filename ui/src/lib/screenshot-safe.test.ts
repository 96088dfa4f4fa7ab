import { describe, expect, it } from "vitest";
import { maskWindow } from "./screenshot-safe";

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("maskWindow", () => {
  it("masks what is there, what is written later, and puts the originals back", async () => {
    const root = document.createElement("div");
    root.innerHTML = '<p title="user demo@example.com">fp:0123456789ab</p><span>SIGNED_IN</span><input type="email" placeholder="you@example.com">';
    document.body.append(root);
    const stop = maskWindow(root);
    expect(root.textContent).toBe("fp:••••••••••••SIGNED_IN");
    expect(root.querySelector("p")?.title).toBe("user •••@•••");
    expect(root.querySelector("input")?.placeholder).toBe("•••@•••");
    expect(document.documentElement.classList.contains("screenshot-safe")).toBe(true);

    // A component updates a text node, and adds a row.
    const text = root.querySelector("p")!.firstChild as Text;
    text.nodeValue = "fp:ba7816bf8f01";
    const row = document.createElement("li");
    row.textContent = "3f2e0c1a-0000-4000-8000-000000000000";
    root.append(row);
    await tick();
    expect(text.nodeValue).toBe("fp:••••••••••••");
    expect(row.textContent).toBe("••••••••-••••-••••-••••-••••••••••••");

    stop();
    expect(text.nodeValue).toBe("fp:ba7816bf8f01");
    expect(row.textContent).toBe("3f2e0c1a-0000-4000-8000-000000000000");
    expect(root.querySelector("p")?.title).toBe("user demo@example.com");
    expect(root.querySelector("input")?.placeholder).toBe("you@example.com");
    expect(document.documentElement.classList.contains("screenshot-safe")).toBe(false);
    root.remove();
  });

  it("masks the whole text of a private element, even when it is revealed later", async () => {
    const root = document.createElement("div");
    root.innerHTML = '<dd data-private>447700900123</dd><code class="revealed" data-private></code><p>SIGNED_IN</p>';
    document.body.append(root);
    const stop = maskWindow(root);
    const phone = root.querySelector("dd")!;
    expect(phone.textContent).toBe("••••••••••••");

    // A token revealed while the mode is on (an opaque refresh token no pattern knows).
    const token = root.querySelector("code")!;
    token.textContent = "v2 opaque refresh";
    await tick();
    expect(token.textContent).toBe("•• •••••• •••••••");
    expect(root.querySelector("p")!.textContent).toBe("SIGNED_IN");

    stop();
    expect(phone.textContent).toBe("447700900123");
    expect(token.textContent).toBe("v2 opaque refresh");
    root.remove();
  });
});
