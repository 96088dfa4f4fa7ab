import { mount } from "svelte";
import "./app.css";
import App from "./App.svelte";
import { start } from "./lib/stores/start";

performance.mark("main:eval");
const target = document.getElementById("app");
if (!target) throw new Error("index.html has no #app element");

// The first calls to the app leave before the first mount: their round trips overlap it.
void start();
const app = mount(App, { target });
performance.mark("main:mounted");
export default app;
