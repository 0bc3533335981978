#!/usr/bin/env bash
# Deploy the service's image to one environment and smoke-test it (deliver.yml):
#   bash .github/deploy.sh <staging|prod> <image>
# Needs kubectl and yq (on GitHub's runners) and KUBECONFIG_DATA, a base64 kubeconfig.
set -euo pipefail
overlay="deploy/k8s/overlays/$1"
image="$2"

export KUBECONFIG="$RUNNER_TEMP/kubeconfig"
echo "$KUBECONFIG_DATA" | base64 --decode > "$KUBECONFIG"

# The overlay's image becomes the one just built, then everything is applied.
yq -i ".images[0].newName = \"${image%:*}\" | .images[0].newTag = \"${image##*:}\"" \
    "$overlay/kustomization.yaml"
kubectl apply -k "$overlay"

manifest=$(kubectl kustomize "$overlay")
namespace=$(echo "$manifest" | yq 'select(.kind == "Deployment") | .metadata.namespace')
name=$(echo "$manifest" | yq 'select(.kind == "Deployment") | .metadata.name')
kubectl rollout status "deployment/$name" --namespace "$namespace" --timeout 10m

# Smoke test through the Service: ready, and the model's own input example predicts.
kubectl port-forward "service/$name" 8080:80 --namespace "$namespace" &
forward=$!
trap 'kill $forward' EXIT
for _ in $(seq 30); do curl --silent --fail http://127.0.0.1:8080/ready && break; sleep 2; done
curl --silent --fail http://127.0.0.1:8080/model | jq '.input_example' > example.json
curl --silent --fail --header 'Content-Type: application/json' --data @example.json \
    http://127.0.0.1:8080/predict | jq -e '.predictions | length > 0'
