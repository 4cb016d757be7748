// Entry point: registers the views with the router and draws the one the URL names.

import { h, link } from "./dom.js";
import { route, start } from "./router.js";
import { featuresView } from "./views/features.js";
import { governanceView } from "./views/governance.js";
import { homeView } from "./views/home.js";
import { impactView } from "./views/impact.js";
import { lineageView } from "./views/lineage.js";
import { modelView } from "./views/model.js";

route("/", homeView);
route("/ui/lineage", lineageView);
route("/ui/model", modelView);
route("/ui/impact", impactView);
route("/ui/governance", governanceView);
route("/ui/features", featuresView);
route("*", (main) => {
  main.append(h("div", { class: "state error", role: "alert" }, "No such view. ", link("/", "Back to search")));
});

start();
