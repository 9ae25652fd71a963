// ESLint flat config: typescript-eslint's recommended type-aware rules for every TypeScript file.
import eslint from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "out/", "test/golden/"] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      // Tests build deliberately malformed configs; the schema is what types them.
      "@typescript-eslint/no-explicit-any": "off",
    },
  },
);
