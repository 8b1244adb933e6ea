// Slack's interactivity endpoint (functions/interactions/): an API Gateway HTTP API with one route, POST
// /slack/interactions, in front of the interactions function, and the worker's asynchronous-invoke settings. Only
// with a Slack app configured (slack_app_secret): without it nothing here is created and messages carry no buttons.
// An HTTP API rather than a Lambda function URL: new function URLs with auth NONE also need a public
// lambda:InvokeFunction statement conditioned on lambda:InvokedViaFunctionUrl, which the pinned AWS provider
// (6.25) cannot write, and without that condition anyone could invoke the function directly. The HTTP API's
// permission is scoped to its own route, and its stage throttles a flood before it reaches the function.
// Requests are claims: the function verifies Slack's signature before reading anything else.
import { Apigatewayv2Api } from "@cdktf/provider-aws/lib/apigatewayv2-api";
import { Apigatewayv2Integration } from "@cdktf/provider-aws/lib/apigatewayv2-integration";
import { Apigatewayv2Route } from "@cdktf/provider-aws/lib/apigatewayv2-route";
import { Apigatewayv2Stage } from "@cdktf/provider-aws/lib/apigatewayv2-stage";
import type { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import { LambdaFunctionEventInvokeConfig } from "@cdktf/provider-aws/lib/lambda-function-event-invoke-config";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import { Fn, Op, ref, TerraformStack, Token } from "cdktf";
import { Construct } from "constructs";
import { first } from "./config.ts";
import type { RemedyVariables } from "./variables.ts";

export const INTERACTIONS_ROUTE = "POST /slack/interactions";
/** Slack sends one request per click; a few people clicking never come near this. */
export const INTERACTIONS_THROTTLE = { rateLimit: 10, burstLimit: 20 } as const;
/**
 * The worker's asynchronous events: retried twice on a transient failure (each action is idempotent: the decision
 * is recorded once, and what it does re-reads the live state), and dropped after 15 minutes (the person who clicked
 * has long been told it is under way; the message then says nothing more).
 */
export const WORKER_ASYNC = { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 900 } as const;

export interface InteractionsProps {
  vars: RemedyVariables;
  namePrefix: string;
  interactions: LambdaFunction;
  worker: LambdaFunction;
}

export class InteractionsEndpoint extends Construct {
  /** The interactivity request URL to give Slack (empty without a Slack app). */
  readonly url: string;

  constructor(scope: Construct, id: string, props: InteractionsProps) {
    super(scope, id);
    // Not Op.neq(secret, ""): cdktf renders the empty string there as `undefined`, which Terraform cannot evaluate.
    const enabled = Token.asNumber(Fn.conditional(Op.gte(Fn.lengthOf(props.vars.slackAppSecret.stringValue), 1), 1, 0));
    const api = new Apigatewayv2Api(this, "api", {
      name: `${props.namePrefix}-slack-interactions`,
      protocolType: "HTTP",
      description: "Remedy: Slack's interactivity requests (signed by Slack, verified by the function)",
      count: enabled,
    });
    const apiId = first(api, "id");
    const integration = new Apigatewayv2Integration(this, "integration", {
      apiId,
      integrationType: "AWS_PROXY",
      integrationUri: props.interactions.invokeArn,
      payloadFormatVersion: "2.0",
      // Slack gives up after 3 s; the function answers well within that.
      timeoutMilliseconds: 10_000,
      count: enabled,
    });
    new Apigatewayv2Route(this, "route", {
      apiId,
      routeKey: INTERACTIONS_ROUTE,
      target: `integrations/${first(integration, "id")}`,
      count: enabled,
    });
    new Apigatewayv2Stage(this, "stage", {
      apiId,
      name: "$default",
      autoDeploy: true,
      defaultRouteSettings: {
        throttlingRateLimit: INTERACTIONS_THROTTLE.rateLimit,
        throttlingBurstLimit: INTERACTIONS_THROTTLE.burstLimit,
      },
      count: enabled,
    });
    const executionArn = first(api, "execution_arn");
    new LambdaPermission(this, "invoke", {
      statementId: "AllowSlackInteractionsRoute",
      action: "lambda:InvokeFunction",
      functionName: props.interactions.functionName,
      principal: "apigateway.amazonaws.com",
      // This API's one route, no other API or route.
      sourceArn: `${executionArn}/*/POST/slack/interactions`,
      count: enabled,
    });
    new LambdaFunctionEventInvokeConfig(this, "worker_async", {
      functionName: props.worker.functionName,
      ...WORKER_ASYNC,
    });
    // Empty without a Slack app: formatlist over no API is an empty list.
    this.url = Token.asString(
      Fn.join(
        "",
        Fn.formatlist("%s/slack/interactions", [
          Token.asList(ref(`${api.fqn}[*].api_endpoint`, TerraformStack.of(this))),
        ]),
      ),
    );
  }
}
