// The studio's script: one bundle (make studio-js), each page taking its part.

import { editor } from "./editor.js";
import { list } from "./list.js";
import { sharedList } from "./lists.js";
import { review } from "./review.js";
import { announce } from "./texts.js";

const PAGES = { list, editor, review, "shared-list": sharedList };

const main = document.querySelector("[data-studio]");
if (main && PAGES[main.dataset.studio]) {
  PAGES[main.dataset.studio](main).catch((error) => {
    console.error(error);
    announce(error.message);
  });
}
