// ESLint flat config: typescript-eslint's type-aware rules on the app, its tests and configs.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "src/api/schema.d.ts", "dev-dist/"] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.browser },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      // Components never talk to the network: only src/sync/ and src/api/ may.
      "no-restricted-globals": [
        "error",
        { name: "fetch", message: "Only src/api/ and src/sync/ talk to the network." },
        { name: "XMLHttpRequest", message: "Only src/api/ and src/sync/ talk to the network." },
      ],
    },
  },
  {
    files: ["src/sw.ts"],
    languageOptions: {
      globals: { ...globals.serviceworker },
      parserOptions: { projectService: false, project: "./tsconfig.sw.json" },
    },
  },
  {
    files: ["tests/**"],
    rules: { "@typescript-eslint/no-non-null-assertion": "off" },
  },
  {
    files: ["src/api/**", "src/sync/**", "src/sw.ts"],
    rules: { "no-restricted-globals": "off" },
  },
  {
    files: ["eslint.config.js"],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { ...globals.node } },
  },
);
