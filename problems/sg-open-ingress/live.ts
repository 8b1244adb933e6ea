// Reading a security group's rules exactly as the ledger records them (every page): one reader for the remediation
// that records the before-state and the undo that compares it with the live group.
import { DescribeSecurityGroupRulesCommand, type EC2Client, type SecurityGroupRule } from "@aws-sdk/client-ec2";

/** All rules of one group (every page). */
export async function describeGroupRules(ec2: EC2Client, groupId: string): Promise<SecurityGroupRule[]> {
  const rules: SecurityGroupRule[] = [];
  let token: string | undefined;
  do {
    const page = await ec2.send(
      new DescribeSecurityGroupRulesCommand({
        Filters: [{ Name: "group-id", Values: [groupId] }],
        MaxResults: 1000,
        ...(token ? { NextToken: token } : {}),
      }),
    );
    rules.push(...(page.SecurityGroupRules ?? []));
    token = page.NextToken || undefined;
  } while (token);
  return rules;
}
